"""``livecov contexts``: which lines only end-to-end tests run, and which only unit tests.

A context is *end-to-end* when the live server recorded it: its name has no pytest-cov
phase suffix (``|setup``, ``|run``, ``|teardown``) and is not empty. ``--e2e GLOB``
replaces that rule with explicit patterns.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from coverage import CoverageData

from livecov.errors import ConfigError
from livecov.jinja import PLUGIN_NAME as JINJA_PLUGIN
from livecov.jinja import repair_data
from livecov.measure import open_coverage

PYTEST_COV_PHASES = ("|setup", "|run", "|teardown")


def is_e2e_context(name: str, patterns: Sequence[str] | None = None) -> bool:
    if patterns:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)
    return bool(name) and not name.endswith(PYTEST_COV_PHASES)


@dataclass
class LayerSplit:
    """Per file: the lines covered only end-to-end, only by unit tests, and by both."""

    only_e2e: dict[str, list[int]] = field(default_factory=dict)
    only_unit: dict[str, list[int]] = field(default_factory=dict)
    both: int = 0


def split_by_layer(
    data: CoverageData,
    patterns: Sequence[str] | None = None,
    include: Sequence[str] | None = None,
) -> LayerSplit:
    """Split covered lines by layer; ``include`` globs (relative paths) limit the files."""
    split = LayerSplit()
    for filename in sorted(data.measured_files()):
        relative = os.path.relpath(filename)
        if include and not any(fnmatch.fnmatchcase(relative, glob) for glob in include):
            continue
        e2e: list[int] = []
        unit: list[int] = []
        for line, contexts in sorted(data.contexts_by_lineno(filename).items()):
            kinds = {is_e2e_context(c, patterns) for c in contexts}
            if kinds == {True}:
                e2e.append(line)
            elif kinds == {False}:
                unit.append(line)
            else:
                split.both += 1
        if e2e:
            split.only_e2e[filename] = e2e
        if unit:
            split.only_unit[filename] = unit
    return split


def format_ranges(lines: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    ranges: list[list[int]] = []
    for line in lines:
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1][1] = line
        else:
            ranges.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def print_split(split: LayerSplit, out: TextIO) -> None:
    sections = (
        ("Lines only end-to-end tests run (no unit test does):", split.only_e2e),
        ("Lines only unit tests run (no end-to-end test does):", split.only_unit),
    )
    for title, files in sections:
        print(title, file=out)
        for filename, lines in files.items():
            print(f"  {os.path.relpath(filename)}: {format_ranges(lines)}", file=out)
        if not files:
            print("  (none)", file=out)
    e2e = sum(map(len, split.only_e2e.values()))
    unit = sum(map(len, split.only_unit.values()))
    print(f"{split.both} lines run by both, {e2e} only end-to-end, {unit} only unit.", file=out)


def contexts_report(
    data_file: str | None = None,
    rcfile: str | None = None,
    patterns: Sequence[str] | None = None,
    out: TextIO | None = None,
    include: Sequence[str] | None = None,
) -> int:
    cov = open_coverage(rcfile or True, data_file)
    cov.load()
    data = cov.get_data()
    if not data.measured_files():
        raise ConfigError(f"no coverage data in {cov.config.data_file}")
    contexts = data.measured_contexts()
    if contexts <= {""}:
        raise ConfigError(
            f"{cov.config.data_file} has no contexts: measure with livecov (and "
            "pytest --cov-context=test for the unit tests)"
        )
    with _templates_repaired(data) as data:
        print_split(split_by_layer(data, patterns, include), out or sys.stdout)
    return 0


@contextlib.contextmanager
def _templates_repaired(data: CoverageData) -> Iterator[CoverageData]:
    """``data``, or, when it holds livecov.jinja templates' arcs, a repaired copy of it.

    Data straight from pytest-cov or ``coverage combine`` still has the Python line
    numbers a resumed template records (see ``livecov.jinja.repair_data``); the user's
    file is left as it is, and the copy goes with the report.
    """
    traced = any(data.file_tracer(name) == JINJA_PLUGIN for name in data.measured_files())
    if not (traced and data.has_arcs()):
        yield data
        return
    with tempfile.TemporaryDirectory(prefix="livecov-contexts-") as folder:
        copy = os.path.join(folder, "data")
        shutil.copyfile(data.data_filename(), copy)
        repair_data(copy)
        repaired = CoverageData(copy)
        repaired.read()
        yield repaired
