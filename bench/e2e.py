"""Figure 4: the end-to-end (browser) suite: time per test, serial vs ``pytest -n 2``,
and measured vs unmeasured (issue 22: what coverage with per-test contexts costs a suite).

  serial         ``python -m pytest tests/e2e -q``: nothing measured
  parallel       the same with ``-n 2`` (pytest-xdist: each worker its own live server
                 and browser)
  line-default   ``coverage run -m pytest tests/e2e -q --livecov-test-contexts``, flaskr's
                 lines without branches or templates: the core livecov chooses (on Python
                 3.12+ sys.monitoring, re-armed at each test's context switch)
  line-ctrace    the same with ``core = ctrace``: coverage.py's C tracer, today's contexts
  as-make-test   the same under the project's own settings (branches and ``livecov.jinja``:
                 ctrace in every process), as ``make test`` measures the suite

Every measured run names each test on the lines it ran, in the test process and the live
server. Ratios are taken per round (each round runs every command once, the order rotating).

Runs alternate, timed by hyperfine (``common.alternate_commands``). The time per browser
test is pytest's own duration of each test (set-up, call and tear-down, from a JUnit XML
report of the serial runs): its median over the suite,
then the median of that over the runs; the counts come from the same reports. Nothing is
measured when tests/e2e has no tests yet, or when no Chromium can be found (``make browser``
installs one; ``make bench`` does it first).

    python bench/e2e.py [--runs 2]
    BENCH_NO_REEXEC=1 .venv-3.13/bin/python bench/e2e.py --runs 3   # sys.monitoring
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios

NAME = "e2e"
TITLE = "4. End-to-end browser suite: per test, serial vs -n 2"
E2E = common.ROOT / "tests" / "e2e"
# flaskr's Python lines only: no branches and no template plugin, which keep ctrace.
LINE_RC = "[run]\nbranch = false\nsource = flaskr/src/flaskr\n{core}"
MEASURED = ("line-default", "line-ctrace", "as-make-test")


def has_tests() -> bool:
    return E2E.is_dir() and any(E2E.rglob("test_*.py"))


def ensure_browser() -> str:
    """'' when a Chromium is there (installing Debian's when missing), else why not."""
    check = [
        common.project_python(),
        "-c",
        "from livecov.browser import find_chromium; print(find_chromium())",
    ]
    probe = subprocess.run(check, capture_output=True, text=True, cwd=common.ROOT, timeout=60)
    if probe.returncode == 0:
        return ""
    missing = probe.stderr.strip().splitlines()[-1:] or ["?"]
    return f"no Chromium ({missing[0]}): `make browser` installs one"


def junit_times(path: Path) -> list[float]:
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest wrote it
    return [float(case.get("time", "nan")) for case in root.iter("testcase")]


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=420, help="per pytest run, seconds")
    args = parser.parse_args(argv)
    common.require_tools(parser, "hyperfine")
    started = time.perf_counter()
    if not has_tests():
        common.write_results(
            NAME,
            TITLE,
            [Figure.missing("4", "e2e suite", "tests/e2e has no tests yet: nothing measured")],
            {},
            started,
        )
        return 0
    problem = ensure_browser()
    if problem:
        common.write_results(NAME, TITLE, [Figure.missing("4", "e2e suite", problem)], {}, started)
        return 0

    py = sys.executable  # the project venv (re-exec), or another Python with BENCH_NO_REEXEC
    base = [py, "-m", "pytest", "tests/e2e", "-q", "-p", "no:cacheprovider"]
    env = common.clean_env()
    per_test: list[float] = []
    all_times: list[list[float]] = []
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ("serial", "parallel", *MEASURED)}
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    (tmp / "line-default.rc").write_text(LINE_RC.format(core=""))
    (tmp / "line-ctrace.rc").write_text(LINE_RC.format(core="core = ctrace\n"))

    def commands(round_no: int) -> dict[str, str]:
        def cmd(kind: str) -> list[str]:
            junit = f"--junitxml={tmp}/{kind}-{round_no}.xml"
            if kind == "parallel":
                return [*base, junit, "-n", "2"]
            if kind == "serial":
                return [*base, junit]
            rc = [] if kind == "as-make-test" else [f"--rcfile={tmp / kind}.rc"]
            data = f"--data-file={tmp}/{kind}-{round_no}.coverage"
            measured = [py, "-m", "coverage", "run", *rc, data, *base[1:]]
            return [*measured, junit, "--livecov-test-contexts"]

        return {kind: common.in_shell(cmd(kind), common.ROOT) for kind in runs}

    try:
        # hyperfine times each round; failing tests are reported, not fatal.
        timings = common.alternate_commands(
            commands, args.runs, label="e2e:", env=env, allow_fail=True, timeout=2 * args.timeout
        )
        for kind, timed in timings.items():
            for round_no, t in enumerate(timed):
                junit = tmp / f"{kind}-{round_no}.xml"
                summary = common.junit_summary(junit) if junit.exists() else {}
                runs[kind].append({"code": t.code, "seconds": t.wall, "cpu": t.cpu, **summary})
                if t.code not in (0, 1) or not summary:
                    raise common.CommandFailed(commands(round_no)[kind], t.code, "")
                if kind == "serial":
                    all_times.append(junit_times(junit))
                    per_test.append(statistics.median(all_times[-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    wall = {kind: common.walls(timed) for kind, timed in timings.items()}
    counts = runs["serial"][-1]["counts"]
    failed = max(
        r["counts"]["failures"] + r["counts"]["errors"] for rs in runs.values() for r in rs
    )
    n = counts["tests"]
    slowest = max((max(t) for t in all_times), default=None)
    fastest = min((min(t) for t in all_times), default=None)
    figures = [
        Figure.from_stats(
            "4.per_test",
            "median time per browser test (serial)",
            Stats.of(per_test),
            "s",
            note=(
                f"fastest test {fastest:.2f} s, slowest {slowest:.2f} s"
                if slowest is not None
                else ""
            ),
        ),
        Figure.from_stats(
            "4.serial",
            f"e2e suite serial ({n} tests)",
            Stats.of(wall["serial"]),
            "s",
            note=f"{failed} tests failed or errored" if failed else "",
        ),
        Figure.from_stats("4.parallel", "e2e suite with -n 2", Stats.of(wall["parallel"]), "s"),
        Figure.from_stats(
            "4.speedup",
            "speed-up of -n 2 (serial / parallel)",
            ratios(wall["serial"], wall["parallel"]),
            "x",
        ),
    ]
    cpu = {kind: common.cpus(timed) for kind, timed in timings.items()}
    core = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    for kind in MEASURED:
        figures += [
            Figure.from_stats(
                f"4.{kind}", f"e2e suite measured, {kind} ({core})", Stats.of(wall[kind]), "s"
            ),
            Figure.from_stats(
                f"4.{kind}.ratio",
                f"measured / unmeasured wall, {kind}",
                ratios(wall[kind], wall["serial"]),
                "x",
                note=f"CPU {ratios(cpu[kind], cpu['serial']).median:.2f}x",
            ),
        ]
    common.write_results(NAME, TITLE, figures, {"runs": runs, "per_test_times": all_times}, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
