"""Figure 5: wall time of ``make test`` (lint, browser check, every test under coverage,
the combined report), with the venv already there.

``make -o .venv/.synced test``: the venv counts as up to date, so the figure never includes
a ``uv sync``. The Makefile is in flux, so a failing ``make test`` is still timed and
reported with its exit status. Timed by hyperfine; pytest's counts come from its
``--junit-xml`` report (``PYTEST_ARGS``).

    python bench/make_test.py [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats

NAME = "make_test"
TITLE = "5. make test: total wall time (venv present)"


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--skip-lint",
        action="store_true",
        help="make -o lint test: time the rest while someone's work in progress fails lint",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    make = shutil.which("make")
    if make is None or not (common.ROOT / "Makefile").exists():
        common.write_results(
            NAME, TITLE, [Figure.missing("5", "make test", "no make/Makefile")], {}, started
        )
        return 0
    cmd = [make, "-s", "test"]
    if (common.ROOT / ".venv" / ".synced").exists():
        cmd = [make, "-s", "-o", ".venv/.synced", "test"]
    if args.skip_lint:
        cmd[-1:-1] = ["-o", "lint"]
    env = common.clean_env("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    results: list[dict[str, Any]] = []
    times: list[float] = []
    skipped_lint = ""
    tmp = Path(tempfile.mkdtemp(prefix="bench-make-test-"))
    junit, printed = tmp / "junit.xml", tmp / "output.txt"

    def timed() -> common.Timing:
        """One make test, timed by hyperfine; pytest's counts from its --junit-xml report."""
        junit.unlink(missing_ok=True)
        line = common.in_shell([*cmd, f"PYTEST_ARGS=--junit-xml={junit}"], common.ROOT)
        timings = common.hyperfine(
            {"make": line}, env=env, allow_fail=True, timeout=args.timeout, output=printed
        )
        return timings["make"]

    try:
        for i in range(args.runs):
            t = timed()
            if t.code != 0 and not junit.exists() and "lint" not in cmd:
                # It stopped before any test ran: lint failed (work in progress). Time the rest.
                skipped_lint = "lint failed, so timed without it (make -o lint); "
                common.log("  make test stopped before the tests (lint); again without lint")
                cmd[-1:-1] = ["-o", "lint"]
                t = timed()
            summary = common.junit_summary(junit) if junit.exists() else {}
            said = printed.read_text(errors="replace") if printed.exists() else ""
            tail = said.splitlines()[-15:]
            results.append(
                {"code": t.code, "seconds": t.wall, "cpu": t.cpu, **summary, "tail": tail}
            )
            times.append(t.wall)
            common.log(f"  make test run {i + 1}/{args.runs}: {t.wall:.1f} s, exit {t.code}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    last = results[-1]
    counts = last.get("counts", {})
    note = f"pytest: {', '.join(f'{v} {k}' for k, v in counts.items())}" if counts else ""
    note = skipped_lint + note
    if last["code"] != 0:
        said = " / ".join(line.strip() for line in last["tail"][-3:])
        note = f"make test FAILED (exit {last['code']}); {note} | {said}"
    figures = [
        Figure.from_stats(
            "5.make_test",
            "make test (lint + all tests + report)",
            Stats.of(times),
            "s",
            "<= 30",
            note=note,
        )
    ]
    if last.get("session_seconds"):
        figures.append(
            Figure.from_stats(
                "5.pytest",
                "  of which the pytest session",
                Stats.of([r["session_seconds"] for r in results if r.get("session_seconds")]),
                "s",
            )
        )
    common.write_results(
        NAME, TITLE, figures, {"command": " ".join(cmd[1:]), "runs": results}, started
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
