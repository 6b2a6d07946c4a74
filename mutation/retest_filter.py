"""A cosmic-ray filter for ``make mutation --retest``: skip every mutant but the survivors.

    cosmic-ray-venv/bin/python mutation/retest_filter.py SESSION.sqlite --keep KEYS.json

KEYS.json lists the mutants to test again as ``[module_path, operator_name, occurrence]``
(what names a mutant across runs of unchanged source). Every other pending mutant of the
session is marked skipped, the way cosmic-ray's own ``cr-filter-operators`` skips the
excluded operators: through cosmic-ray's ``FilterApp`` and work database API, so its
tables are never edited by hand. Exits 3, saying how many, when a mutant to keep is not
among the session's (the source changed since: run the session in full).

It runs in the venv mutation/run.py makes for cosmic-ray (not a dependency of the project).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cosmic_ray.tools.filters.filter_app import FilterApp
from cosmic_ray.work_item import WorkerOutcome, WorkResult

NOT_GENERATED = 3


class RetestFilter(FilterApp):
    def description(self) -> str:
        return __doc__.split("\n")[0]

    def add_args(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--keep", type=Path, required=True, help="JSON list of mutants")

    def filter(self, work_db: Any, args: argparse.Namespace) -> None:
        keep = {tuple(key) for key in json.loads(args.keep.read_text())}
        found = set()
        for item in work_db.pending_work_items:
            mutation = item.mutations[0]
            key = (str(mutation.module_path), mutation.operator_name, mutation.occurrence)
            if key in keep:
                found.add(key)
                continue
            work_db.set_result(
                item.job_id,
                WorkResult(
                    output="Filtered: not a survivor of the earlier run",
                    worker_outcome=WorkerOutcome.SKIPPED,
                ),
            )
        if len(found) < len(keep):
            print(
                f"{len(keep) - len(found)} of the {len(keep)} earlier survivors are no longer "
                "generated; the source changed: run the session in full",
                file=sys.stderr,
            )
            sys.exit(NOT_GENERATED)


if __name__ == "__main__":
    sys.exit(RetestFilter().main())
