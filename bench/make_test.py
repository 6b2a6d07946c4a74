"""Figure 5: wall time of ``make test`` (lint, browser check, every test under coverage,
the combined report), with the venv already there.

``make -o .venv/.synced test``: the venv counts as up to date, so the figure never includes
a ``uv sync``. The Makefile is in flux, so a failing ``make test`` is still timed and
reported with its exit status and the tail of its output.

    python bench/make_test.py [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
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
    for i in range(args.runs):
        t = common.run_timed(cmd, cwd=common.ROOT, env=env, timeout=args.timeout, check=False)
        summary = common.pytest_summary(t.output)
        if t.code != 0 and not summary and "lint" not in cmd:
            # It stopped before any test ran: lint failed (work in progress). Time the rest.
            lint_tail = " / ".join(line.strip() for line in t.output.splitlines()[-3:])
            skipped_lint = f"lint failed ({lint_tail}), so timed without it (make -o lint); "
            common.log(f"  make test stopped before the tests: {lint_tail}; again without lint")
            cmd[-1:-1] = ["-o", "lint"]
            t = common.run_timed(cmd, cwd=common.ROOT, env=env, timeout=args.timeout, check=False)
            summary = common.pytest_summary(t.output)
        results.append(
            {"code": t.code, "seconds": t.seconds, **summary, "tail": t.output.splitlines()[-15:]}
        )
        times.append(t.seconds)
        common.log(f"  make test run {i + 1}/{args.runs}: {t.seconds:.1f} s, exit {t.code}")
    last = results[-1]
    counts = last.get("counts", {})
    note = f"pytest: {', '.join(f'{v} {k}' for k, v in counts.items())}" if counts else ""
    note = skipped_lint + note
    if last["code"] != 0:
        note = (
            f"make test FAILED (exit {last['code']}); "
            + note
            + " | "
            + " / ".join(line.strip() for line in last["tail"][-3:])
        )
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
