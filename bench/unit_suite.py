"""Figure 1: wall time of the flaskr unit suite vs the Flask tutorial's own 24-test suite.

  ours      ``python -m pytest -q tests/unit`` in this repository
  tutorial  ``python -m pytest -q`` in a temporary copy of the tutorial project: the app
            and its tests from Flask's source distribution (examples/tutorial), or the tests
            rebuilt from the chapter with ``--seed`` (see bench/tutorial.py); or
            ``--tutorial DIR`` for another copy

Same interpreter (the project's venv), same pytest and plugins, timed by hyperfine in
alternating rounds (``common.alternate_commands``); counts and pytest's own session time
come from its ``--junit-xml`` report. Both are
warmed up first with ``--collect-only`` (bytecode caches), whose time is also reported as
the fixed start-up cost every pytest run here pays. Targets: ours <= 0.5x the tutorial's
wall time while running >= 3x as many tests.

    python bench/unit_suite.py [--runs 3] [--tutorial DIR] [--seed FILE]
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
import tutorial
from common import Figure, Stats, ratios

NAME = "unit_suite"
TITLE = "1. Unit suite: flaskr's tests/unit vs the Flask tutorial's 24 tests"


def _env() -> dict[str, str]:
    return common.clean_env()


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--tutorial",
        type=Path,
        default=None,
        help="a copy of pallets/flask examples/tutorial (flaskr/ and tests/)",
    )
    parser.add_argument("--seed", type=Path, default=common.SEED)
    parser.add_argument("--keep", action="store_true", help="keep the tutorial's temp folder")
    args = parser.parse_args(argv)
    common.require_tools(parser, "hyperfine")
    started = time.perf_counter()
    py = common.project_python()
    figures: list[Figure] = []
    details: dict[str, Any] = {}

    tmp = Path(tempfile.mkdtemp(prefix="bench-tutorial-"))
    try:
        try:
            details["tutorial"] = tutorial.build(tmp / "tutorial", args.seed, args.tutorial)
        except (tutorial.ReconstructionError, OSError) as exc:
            figures.append(Figure.missing("1", "tutorial suite", f"cannot build it: {exc}"))
            common.write_results(NAME, TITLE, figures, details, started)
            return 1
        tut_dir = tmp / "tutorial"
        ours_cmd = [py, "-m", "pytest", "-q", "tests/unit"]
        tut_cmd = [py, "-m", "pytest", "-q"]
        tut_env = {"PYTHONPATH": str(tut_dir)}  # before site-packages: the tutorial's flaskr

        def commands(round_no: int) -> dict[str, str]:
            junit = f"--junit-xml={tmp}/%s-{round_no}.xml"
            return {
                "ours": common.in_shell([*ours_cmd, junit % "ours"], common.ROOT),
                "tutorial": common.in_shell([*tut_cmd, junit % "tutorial"], tut_dir, **tut_env),
                "collect": common.in_shell([*ours_cmd, "--collect-only"], common.ROOT),
            }

        # Warm-up: bytecode caches for everything both suites import, and their collection.
        common.hyperfine(
            {
                "ours": common.in_shell([*ours_cmd, "--collect-only"], common.ROOT),
                "tutorial": common.in_shell([*tut_cmd, "--collect-only"], tut_dir, **tut_env),
            },
            env=_env(),
            allow_fail=True,
        )
        # hyperfine times each round; failing tests in ours are reported, not fatal.
        timings = common.alternate_commands(
            commands, args.runs, label="unit:", env=_env(), allow_fail=True, timeout=900
        )
        for name, allowed in (("ours", (0, 1)), ("tutorial", (0,)), ("collect", (0,))):
            codes = [t.code for t in timings[name]]
            if any(code not in allowed for code in codes):
                raise common.CommandFailed(commands(0)[name], max(codes), "")
        outputs = {
            name: [common.junit_summary(tmp / f"{name}-{i}.xml") for i in range(args.runs)]
            for name in ("ours", "tutorial")
        }
        times = {name: common.walls(t) for name, t in timings.items()}
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            common.log(f"tutorial kept in {tmp}")

    def count(name: str, key: str = "tests") -> int:
        return max(o.get("counts", {}).get(key, 0) for o in outputs[name])

    ours_n, tut_n = count("ours"), count("tutorial")
    ours_failed = count("ours", "failures") + count("ours", "errors")
    per_test = {
        name: Stats.of(
            [
                o["session_seconds"] / max(o["counts"]["tests"], 1)
                for o in outputs[name]
                if o.get("counts")
            ]
        )
        for name in outputs
    }
    figures += [
        Figure.from_stats(
            "1.ours",
            f"ours: pytest tests/unit ({ours_n} tests)",
            Stats.of(times["ours"]),
            "s",
            note=f"{ours_failed} tests FAILED in our suite" if ours_failed else "",
        ),
        Figure.from_stats(
            "1.tutorial", f"tutorial: pytest ({tut_n} tests)", Stats.of(times["tutorial"]), "s"
        ),
        Figure.from_stats(
            "1.ratio",
            "ours / tutorial (wall time)",
            ratios(times["ours"], times["tutorial"]),
            "x",
            "<= 0.5",
        ),
        Figure(
            "1.tests",
            "tests: ours / tutorial",
            ours_n / tut_n if tut_n else None,
            unit="x",
            runs=1,
            target=">= 3",
            met=common.check_target(ours_n / tut_n if tut_n else None, ">= 3"),
            note=f"{ours_n} vs {tut_n} tests",
        ),
        Figure.from_stats(
            "1.ours_per_test",
            "ours: pytest session time per test",
            per_test["ours"],
            "ms",
            scale=1000,
        ),
        Figure.from_stats(
            "1.tut_per_test",
            "tutorial: pytest session time per test",
            per_test["tutorial"],
            "ms",
            scale=1000,
        ),
        Figure.from_stats(
            "1.startup",
            "pytest start-up + collection only (ours, --co)",
            Stats.of(times["collect"]),
            "s",
            note="the fixed cost of any pytest run in this venv (plugins)",
        ),
    ]
    details.update(
        {
            "times": times,
            "cpu_seconds": {name: common.cpus(t) for name, t in timings.items()},
            "pytest": outputs,
            "commands": {
                "ours": "python -m pytest -q tests/unit",
                "tutorial": "python -m pytest -q (in the tutorial copy)",
            },
        }
    )
    common.write_results(NAME, TITLE, figures, details, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
