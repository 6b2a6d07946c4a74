"""Compare two commands in one run, alternating A and B: wall time, median (min-max).

    python bench/compare.py "CMD A" "CMD B" [--runs N] [--warmup W] [--name NAME]

hyperfine times each run (wall and CPU time, the shell's start-up taken off, a failing
command named); the runs are interleaved (A B, B A, A B, ...: one hyperfine round each),
so noise from a shared machine falls on both, and the ratio B/A is taken per round (each
pair ran back to back), then summarized. Commands go through the shell; a command that
fails stops the comparison (exit 1) unless ``--allow-fail``. The figures are written to
bench/results/NAME.json (default: compare).

Example, a change to livecov tried on a copy of the repository:

    python bench/compare.py ".venv/bin/python -m pytest -q tests/unit" \\
        "PYTHONPATH=/tmp/benchcopy/src .venv/bin/python -m pytest -q tests/unit" --runs 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("a", metavar="CMD_A")
    parser.add_argument("b", metavar="CMD_B")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each first")
    parser.add_argument("--timeout", type=float, default=600, help="per run, seconds")
    parser.add_argument(
        "--allow-fail", action="store_true", help="time failing runs too instead of stopping"
    )
    parser.add_argument("--name", default="compare")
    parser.add_argument("--cwd", default=None, help="run the commands here")
    args = parser.parse_args(argv)
    common.require_tools(parser, "hyperfine")
    started = time.perf_counter()

    try:
        timings = common.alternate_commands(
            lambda _round: {"A": args.a, "B": args.b},
            args.runs,
            warmup=args.warmup,
            label="compare:",
            cwd=args.cwd,
            allow_fail=args.allow_fail,
            timeout=args.timeout,
        )
    except common.CommandFailed as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 1
    times = {name: common.walls(t) for name, t in timings.items()}
    cpu = {name: common.cpus(t) for name, t in timings.items()}
    figures = [
        Figure.from_stats("A", f"A: {args.a}", Stats.of(times["A"]), "s"),
        Figure.from_stats("B", f"B: {args.b}", Stats.of(times["B"]), "s"),
        Figure.from_stats("B/A", "ratio B / A (per round)", ratios(times["B"], times["A"]), "x"),
        Figure.from_stats(
            "B/A.cpu", "CPU time ratio B / A (per round)", ratios(cpu["B"], cpu["A"]), "x"
        ),
    ]
    common.write_results(
        args.name,
        f"compare: {args.runs} alternating runs",
        figures,
        {"a": args.a, "b": args.b, "times": times, "cpu_seconds": cpu},
        started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
