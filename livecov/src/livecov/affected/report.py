"""The command line's output: ``livecov affected`` and ``livecov record``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from livecov.affected.record import record
from livecov.affected.selection import describe, select


def affected_report(
    data_file: str | Path,
    base: str | None = None,
    explain: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``livecov affected``: the tests on ``out``, one per line; warnings on ``err``."""
    out, err = out or sys.stdout, err or sys.stderr
    selection = select(data_file, base)
    for warning in selection.warnings:
        print(f"livecov: {warning}", file=err)
    if explain:
        for test, reasons in selection.reasons().items():
            print(test, file=out)
            for reason in reasons:
                print(f"    {reason}", file=out)
    else:
        for test in selection.node_ids():
            print(test, file=out)
    print(f"livecov: {describe(selection)}", file=err)
    return 0


def record_report(data_file: str | Path, out: TextIO | None = None) -> int:
    """``livecov record``: store the record, say what was recorded."""
    stored = record(data_file)
    commit = stored.commit[:12] if stored.commit else "no commit yet"
    print(
        f"livecov: {data_file} was measured at {commit}, {len(stored.files)} files recorded "
        "(for livecov affected)",
        file=out or sys.stdout,
    )
    return 0
