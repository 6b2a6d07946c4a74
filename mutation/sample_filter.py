"""A cosmic-ray filter for ``make mutation --sample N``: test one mutant in N.

    cosmic-ray-venv/bin/python mutation/sample_filter.py SESSION.sqlite --every N [--start K]

Mutants are ordered by where they are (module, position, operator, occurrence) and every
Nth is kept, starting with the first (with ``--start K``, the K+1th: the N starts
0..N-1 are N disjoint samples, so a second run with another start adds to the first
without testing a mutant twice): a systematic sample spread over every module and
function of the session, the same on every run of unchanged source (so ``--retest`` of a
sampled run retests the sample's survivors). Every other pending mutant is marked skipped,
through cosmic-ray's ``FilterApp`` and work database API, as ``cr-filter-operators`` does.

Why sample: livecov's sessions hold about 3,800 mutants, and most of them start real
servers; on two cores a full run takes most of a day. A 1-in-3 sample estimates the
package's score within about 1.5 points (95 % interval, printed with the score).

It runs in the venv mutation/run.py makes for cosmic-ray (not a dependency of the project).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cosmic_ray.tools.filters.filter_app import FilterApp
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def _place(item: Any) -> tuple:
    mutation = item.mutations[0]
    return (
        str(mutation.module_path),
        tuple(mutation.start_pos),
        mutation.operator_name,
        mutation.occurrence,
    )


class SampleFilter(FilterApp):
    def description(self) -> str:
        return __doc__.split("\n")[0]

    def add_args(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--every", type=int, required=True, help="keep one mutant in N")
        parser.add_argument(
            "--start", type=int, default=0, help="keep the Kth, (K+N)th, ... (0-based; default 0)"
        )

    def filter(self, work_db: Any, args: argparse.Namespace) -> None:
        if not 0 <= args.start < args.every:
            sys.exit(f"sample_filter: --start must be 0 to {args.every - 1}, not {args.start}")
        pending = sorted(work_db.pending_work_items, key=_place)
        for position, item in enumerate(pending):
            if position % args.every == args.start:
                continue
            work_db.set_result(
                item.job_id,
                WorkResult(
                    output=f"Filtered: not in the 1-in-{args.every} sample",
                    worker_outcome=WorkerOutcome.SKIPPED,
                ),
            )


if __name__ == "__main__":
    sys.exit(SampleFilter().main())
