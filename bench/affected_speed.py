"""How fast ``livecov affected`` answers on flaskr's data (target: under a second).

The data is ``make test``'s ``.coverage`` (unit, livecov and browser tests; flaskr and
livecov measured, with contexts, recorded) when there is one, else the flaskr suite is
measured first in a throw-away copy (as ``make affected-check`` does). A shared clone of
the repository at the recorded commit is changed, and ``livecov affected`` answers for
each realistic change of CHANGES (a view's error message; a template's line, which
livecov.jinja measured: the template is parsed by Jinja), in turn with ``livecov
--version`` (the same interpreter and imports: the floor any CLI pays), timed by hyperfine
in alternating rounds (wall and CPU time).

    python bench/affected_speed.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from affected_check import Copy

# name -> (file, old text, new text); each measured in a clone of its own.
CHANGES = {
    "view": ("flaskr/src/flaskr/blog.py", '"Title is required."', '"A title is required."'),
    "template": (
        "flaskr/src/flaskr/templates/blog/index.html",
        "by {{ post['username'] }} on",
        "by {{ post['username'] }}, on",
    ),
}


def recorded_data(where: Path) -> tuple[Path, Path, str, str]:
    """(repository, data file, what the data is, the commit it was measured at): make test's
    data, else a fresh measurement."""
    sys.path.insert(0, str(common.ROOT / "livecov" / "src"))
    from livecov.affected.record import read_record

    data = common.ROOT / ".coverage"
    stored = read_record(data) if data.is_file() else None
    if stored is None or stored.commit is None:
        copy = Copy(where)
        copy.make()
        copy.baseline(testmon=[])
        head = copy.git("rev-parse", "HEAD").strip()
        return copy.repo, copy.data, "the flaskr suite (unit + browser), measured afresh", head
    source = "make test's .coverage (unit, livecov and browser tests)"
    return common.ROOT, data, source, stored.commit


def changed_clone(origin: Path, commit: str, where: Path, change: tuple[str, str, str]) -> Path:
    """A clone of ``origin`` at ``commit`` with ``change`` made."""
    subprocess.run(
        ["git", "clone", "-q", "--shared", "--no-checkout", str(origin), str(where)], check=True
    )
    subprocess.run(["git", "checkout", "-q", commit], cwd=where, check=True)
    path, old, new = change
    target = where / path
    text = target.read_text()
    if old not in text:
        raise SystemExit(f"{old!r} is not in {path}")
    target.write_text(text.replace(old, new, 1))
    return where


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    common.require_tools(parser, "hyperfine")
    started = time.perf_counter()
    where = Path(tempfile.mkdtemp(prefix="affected-speed-"))
    livecov = str(common.ROOT / ".venv" / "bin" / "livecov")
    env = common.clean_env()
    try:
        origin, data, source, commit = recorded_data(where)
        commands = {"version": ([livecov, "--version"], where)}
        selected = {}
        for name, change in CHANGES.items():
            clone = changed_clone(origin, commit, where / name, change)
            command = [livecov, "affected", "--data-file", str(data)]
            lines = common.run_timed(command, cwd=clone, env=env).output.splitlines()
            selected[name] = sum(1 for line in lines if not line.startswith("livecov:"))
            common.log(f"{name}: {lines[-1]}")
            commands[name] = (command, clone)
        shell_lines = {name: common.in_shell(cmd, cwd) for name, (cmd, cwd) in commands.items()}
        timings = common.alternate_commands(
            lambda _round: shell_lines,
            runs=args.runs,
            warmup=1,
            label="affected",
            env=env,
        )
        values = {name: common.walls(t) for name, t in timings.items()}
        cpu = {name: common.cpus(t) for name, t in timings.items()}
    finally:
        shutil.rmtree(where, ignore_errors=True)
    figures = []
    for name in CHANGES:
        figures += [
            common.Figure.from_stats(
                f"affected.answer.{name}",
                f"livecov affected, one changed {name}",
                common.Stats.of(values[name]),
                unit="s",
                target="< 1",
                note=f"data: {source}; {selected[name]} tests selected",
            ),
            common.Figure.from_stats(
                f"affected.cpu.{name}",
                f"livecov affected, one changed {name}, CPU time (steadier under load)",
                common.Stats.of(cpu[name]),
                unit="s",
                target="< 1",
            ),
            common.Figure.from_stats(
                f"affected.ratio.{name}",
                f"affected ({name}) / --version",
                common.ratios(values[name], values["version"]),
                unit="x",
            ),
        ]
    figures.append(
        common.Figure.from_stats(
            "affected.floor",
            "livecov --version (the floor)",
            common.Stats.of(values["version"]),
            unit="s",
        )
    )
    common.write_results(
        "affected_speed",
        "livecov affected: time to answer",
        figures,
        details={"source": source, "selected": selected},
        started=started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
