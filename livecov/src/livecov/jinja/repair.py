"""Repairing branch data (docs/jinja.md, "Branches, and the repair step"), and its command,
``python -m livecov.jinja [DATA_FILE]``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import coverage

from livecov.coverage_data import restart_stray_arcs
from livecov.errors import LivecovError
from livecov.jinja import PLUGIN_NAME


def repair_data(data_file: str) -> int:
    """Drop the Python line numbers coverage.py records into templates' arcs; count them.

    When a compiled template (a generator) resumes after a ``yield``, coverage.py's C
    tracer starts the next arc at the Python line number of that ``yield``, not at a
    template line. Every template line that ran is an arc's end within its context, so an
    arc whose start is no arc's end in its context starts at a Python line: it is made to
    start at -1 (an entry), and the lines and contexts read exactly what ran.
    """
    if not os.path.exists(data_file):
        return 0
    return restart_stray_arcs(data_file, PLUGIN_NAME)


def repair_running_data(cov: coverage.Coverage | None) -> int:
    """Repair what the running measurement ``cov`` recorded so far; count the arcs repaired.

    livecov's pytest plugin calls it when the tests have run, before pytest-cov (or
    ``coverage run``) combines and reports: templates' data is right wherever it is read.
    """
    if cov is None or not cov.config.branch or "livecov.jinja" not in cov.config.plugins:
        return 0
    return repair_data(cov.get_data().data_filename())  # get_data() writes what it holds


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m livecov.jinja [DATA_FILE]``: repair after ``coverage combine``."""
    parser = argparse.ArgumentParser(
        prog="python -m livecov.jinja",
        description="Repair the template arcs of a coverage data file (branch = true).",
    )
    parser.add_argument("data_file", nargs="?", default=".coverage")
    args = parser.parse_args(argv)
    if not os.path.exists(args.data_file):
        print(f"livecov.jinja: no coverage data file {args.data_file}", file=sys.stderr)
        return 1
    try:
        repaired = repair_data(args.data_file)
    except LivecovError as exc:
        print(f"livecov.jinja: {exc}", file=sys.stderr)
        return exc.exit_status
    print(f"livecov.jinja: {args.data_file}: {repaired} template arcs repaired")
    return 0
