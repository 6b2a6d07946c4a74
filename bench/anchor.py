"""Figure 7: livecov against the usual way, pytest-flask's ``live_server`` + pytest-cov.

Both serve flaskr (fresh instance folder, ``init_db``) and run the same small end-to-end
session over HTTP (``bench/e2e_requests.py``: 29 requests, forms with CSRF tokens), with
the same coverage settings (branch on, source = flaskr), then report:

  anchor   ``pytest --cov`` of one test that calls the session against pytest-flask's
           ``live_server``, in its own venv (``bench/.venv-anchor``, git-ignored, made with
           uv: pytest-flask, pytest-cov, and this project at the same Flask/coverage
           versions). pytest-flask serves in a forked process that ends through ``os._exit``,
           so its data is lost unless coverage patches that: ``[run] patch = _exit``.
  livecov  ``livecov run --app flaskr:create_app --setup flaskr.db:init_db ... --
           python bench/e2e_requests.py``

Runs alternate, timed by hyperfine (``common.alternate_commands``); each reports wall time
and the lines of flaskr it covered (from the data file each round's run produced). One
more anchor run without ``patch = _exit`` shows what is lost without it.

    python bench/anchor.py [--runs 3] [--venv DIR]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios

NAME = "anchor"
TITLE = "7. Against the anchor: pytest-flask live_server + pytest-cov vs livecov"
DEFAULT_VENV = common.BENCH / ".venv-anchor"
PINNED = ("flask", "werkzeug", "coverage", "pytest", "pytest-cov", "flask-wtf")

CONFTEST = """\
import os

import pytest


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    os.environ["FLASKR_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    from flaskr import create_app
    from flaskr.db import init_db

    app = create_app()
    with app.app_context():
        init_db()
    return app
"""
TEST = """\
import sys

sys.path.insert(0, {bench!r})
import e2e_requests


def test_e2e_requests(live_server):
    assert e2e_requests.run(live_server.url()) > 0
"""
RC = "[run]\nbranch = True\nsource = flaskr\n{extra}\n"


def _uv() -> str | None:
    return shutil.which("uv") or next(
        (str(p) for p in [common.ROOT / ".tools" / "bin" / "uv"] if p.exists()), None
    )


def ensure_anchor_venv(venv: Path) -> Path:
    """The anchor's venv, made (once) with uv: pytest-flask, pytest-cov, flaskr (editable)."""
    python = venv / "bin" / "python"
    pins = []
    for name in PINNED:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    wanted = " ".join(sorted(pins))
    marker = venv / ".bench-requirements"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    uv = _uv()
    common.log(f"creating the anchor venv {venv} (pytest-flask, pytest-cov, flaskr)")
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", base, str(venv)], check=True, timeout=300)
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--python",
                str(python),
                "pytest-flask",
                *pins,
                "-e",
                str(common.ROOT / "flaskr"),
            ],
            check=True,
            timeout=600,
        )
    else:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "pytest-flask",
                *pins,
                "-e",
                str(common.ROOT / "flaskr"),
            ],
            check=True,
            timeout=600,
        )
    marker.write_text(wanted)
    return python


def covered_lines(data_file: Path) -> tuple[int, int]:
    """(covered lines, measured files) of flaskr in a coverage data file."""
    import coverage

    data = coverage.CoverageData(str(data_file))
    data.read()
    files = [f for f in data.measured_files() if "/flaskr/" in f.replace(os.sep, "/")]
    return sum(len(data.lines(f) or []) for f in files), len(files)


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args(argv)
    common.require_tools(parser, "hyperfine")
    started = time.perf_counter()
    try:
        anchor_python = ensure_anchor_venv(args.venv)
    except (subprocess.SubprocessError, OSError) as exc:
        common.write_results(
            NAME,
            TITLE,
            [Figure.missing("7", "anchor", f"cannot make the anchor venv: {exc}")],
            {},
            started,
        )
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="bench-anchor-"))
    anchor_dir, livecov_dir = tmp / "anchor", tmp / "livecov"
    anchor_dir.mkdir()
    livecov_dir.mkdir()
    (anchor_dir / "conftest.py").write_text(CONFTEST)
    (anchor_dir / "test_e2e.py").write_text(TEST.format(bench=str(common.BENCH)))
    (anchor_dir / "pytest.ini").write_text("[pytest]\n")
    (anchor_dir / "patched.rc").write_text(RC.format(extra="patch = _exit"))
    (anchor_dir / "plain.rc").write_text(RC.format(extra=""))
    (livecov_dir / "livecov.rc").write_text(RC.format(extra=""))
    env = common.clean_env("FLASKR_INSTANCE_PATH")

    def anchor_cmd(rc: str) -> list[str]:
        # -p no:livecov: the project's own pytest plugin also has a live_server fixture.
        return [
            str(anchor_python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:livecov",
            "-p",
            "no:cacheprovider",
            "--cov",
            f"--cov-config={rc}",
            "--cov-report=term-missing",
        ]

    livecov_cmd = [
        str(common.ROOT / ".venv" / "bin" / "livecov")
        if common.VENV_PYTHON.exists()
        else "livecov",
        "run",
        "--app",
        "flaskr:create_app",
        "--setup",
        "flaskr.db:init_db",
        "--env",
        "FLASKR_INSTANCE_PATH={tmpdir}/instance",
        "--rcfile",
        "livecov.rc",
        "--erase",
        "--no-html",
    ]
    session = [common.project_python(), str(common.BENCH / "e2e_requests.py")]

    def commands(round_no: int) -> dict[str, str]:
        """Each round's data in files of its own (pytest-cov and livecov erase them first)."""
        data = f".coverage-round-{round_no}"
        return {
            "anchor": common.in_shell(anchor_cmd("patched.rc"), anchor_dir, COVERAGE_FILE=data),
            "livecov": common.in_shell(
                [*livecov_cmd, "--data-file", data, "--", *session], livecov_dir
            ),
        }

    try:
        # Warm-up (bytecode caches of the anchor venv) in the first round, then timed rounds.
        timings = common.alternate_commands(
            commands, args.runs, label="anchor:", warmup=1, env=env, timeout=600
        )
        lines = {
            name: [covered_lines(folder / f".coverage-round-{i}")[0] for i in range(args.runs)]
            for name, folder in (("anchor", anchor_dir), ("livecov", livecov_dir))
        }
        plain = common.in_shell(anchor_cmd("plain.rc"), anchor_dir, COVERAGE_FILE=".plain")
        common.hyperfine({"unpatched": plain}, env=env, timeout=300)
        unpatched = covered_lines(anchor_dir / ".plain")[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    wall = {name: common.walls(timed) for name, timed in timings.items()}

    figures = [
        Figure.from_stats(
            "7.anchor_wall",
            "pytest-flask + pytest-cov: wall time",
            Stats.of(wall["anchor"]),
            "s",
            note="with [run] patch = _exit",
        ),
        Figure.from_stats(
            "7.livecov_wall", "livecov run: wall time", Stats.of(wall["livecov"]), "s"
        ),
        Figure.from_stats(
            "7.ratio", "livecov / anchor (wall time)", ratios(wall["livecov"], wall["anchor"]), "x"
        ),
        Figure.from_stats(
            "7.anchor_lines",
            "pytest-flask + pytest-cov: flaskr lines covered",
            Stats.of(lines["anchor"]),
            "lines",
        ),
        Figure.from_stats(
            "7.livecov_lines", "livecov: flaskr lines covered", Stats.of(lines["livecov"]), "lines"
        ),
        Figure(
            "7.anchor_unpatched",
            "pytest-flask + pytest-cov without patch = _exit",
            float(unpatched),
            unit="lines",
            runs=1,
            note="the server's own lines are lost: only import-time lines remain",
        ),
    ]
    details: dict[str, Any] = {
        "wall": wall,
        "lines": lines,
        "unpatched_lines": unpatched,
        "cpu_seconds": {name: common.cpus(timed) for name, timed in timings.items()},
        "livecov_command": " ".join([*livecov_cmd[1:], "--", *session]),
    }
    common.write_results(NAME, TITLE, figures, details, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
