"""Figure 1: wall time of the flaskr unit suite vs the Flask tutorial's own 24-test suite.

  ours      ``python -m pytest -q tests/unit`` in this repository
  tutorial  ``python -m pytest -q`` in a temporary copy of the tutorial project: the app
            from Flask's source distribution (examples/tutorial), the tests rebuilt from the
            seed chapter (see bench/tutorial.py); or ``--tutorial DIR`` for another copy

Same interpreter (the project's venv), same pytest and plugins, runs alternating. Both are
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


def _env(extra_path: Path | None = None) -> dict[str, str]:
    env = common.clean_env()
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)  # before site-packages: the tutorial's flaskr wins
    return env


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
        outputs: dict[str, list[dict[str, Any]]] = {"ours": [], "tutorial": []}

        def ours() -> float:
            t = common.run_timed(ours_cmd, cwd=common.ROOT, env=_env(), timeout=600, check=False)
            outputs["ours"].append({"code": t.code, **common.pytest_summary(t.output)})
            if t.code not in (0, 1):
                raise common.CommandFailed(ours_cmd, t.code, t.output)
            return t.seconds

        def tut() -> float:
            t = common.run_timed(tut_cmd, cwd=tut_dir, env=_env(tut_dir), timeout=300, check=False)
            outputs["tutorial"].append({"code": t.code, **common.pytest_summary(t.output)})
            if t.code != 0:
                raise common.CommandFailed(tut_cmd, t.code, t.output)
            return t.seconds

        def ours_collect() -> float:
            return common.run_timed(
                [*ours_cmd, "--collect-only"], cwd=common.ROOT, env=_env(), timeout=300
            ).seconds

        # Warm-up: bytecode caches for everything both suites import, and their collection.
        common.run_timed(
            [*tut_cmd, "--collect-only"], cwd=tut_dir, env=_env(tut_dir), timeout=300, check=False
        )
        ours_collect()
        times = common.alternate(
            {"ours": ours, "tutorial": tut, "collect": ours_collect}, args.runs, label="unit:"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            common.log(f"tutorial kept in {tmp}")

    def count(name: str, key: str = "passed") -> int:
        counts = [o.get("counts", {}) for o in outputs[name]]
        return max((sum(c.values()) if key == "all" else c.get(key, 0)) for c in counts)

    ours_n, tut_n = count("ours", "all"), count("tutorial", "all")
    ours_failed = max(o.get("counts", {}).get("failed", 0) for o in outputs["ours"])
    per_test = {
        name: Stats.of(
            [
                o["session_seconds"] / max(sum(o["counts"].values()), 1)
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
