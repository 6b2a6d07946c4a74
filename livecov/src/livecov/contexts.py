"""``livecov contexts``: which lines only end-to-end tests run, and which only unit tests.

A context is *end-to-end* when livecov's live server recorded it, whatever its name: when
livecov folds the server's data in with the tests' (the pytest plugin, ``livecov run``), it
adds, for each of the server's contexts, a marker context that holds no lines
(``livecov.measure.server_context_marker``); ``coverage combine`` keeps it. ``--e2e GLOB``
replaces that rule with explicit patterns. Only lines that are statements of their file
(coverage.py's analysis, as ``coverage report`` counts them) are counted.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from coverage import Coverage, CoverageData
from coverage.exceptions import CoverageException

from livecov.coverage_data import read_data
from livecov.errors import ConfigError
from livecov.jinja import PLUGIN_NAME as JINJA_PLUGIN
from livecov.jinja.repair import repair_data
from livecov.measure import open_coverage, server_context_marker, shared_fixture_marker


def server_contexts(data: CoverageData) -> set[str]:
    """The contexts livecov's live server recorded (those it marked, see the docstring)."""
    contexts = data.measured_contexts()
    return {name for name in contexts if server_context_marker(name) in contexts}


def shared_fixture_phases(data: CoverageData) -> frozenset[str]:
    """The test phases in which a fixture shared by several tests was set up or torn down
    (those :mod:`livecov.pytest_shared_fixtures` marked)."""
    contexts = data.measured_contexts()
    return frozenset(name for name in contexts if shared_fixture_marker(name) in contexts)


def e2e_rule(data: CoverageData, patterns: Sequence[str] | None = None) -> Callable[[str], bool]:
    """Whether a context is end-to-end: it matches ``patterns``, or else the server
    recorded it. Data holding no server context (and no patterns) is refused."""
    if patterns:
        return lambda name: any(fnmatch.fnmatchcase(name, p) for p in patterns)
    server = server_contexts(data)
    if "" in server:
        raise ConfigError(
            f"{data.data_filename()} holds lines the live server recorded without contexts"
            " (--no-contexts), which cannot be told from the tests' own: measure the"
            " end-to-end tests with contexts, or name their contexts with --e2e GLOB"
        )
    if not server:
        raise ConfigError(
            f"{data.data_filename()} holds no lines livecov's live server recorded: measure"
            " the end-to-end tests with livecov (its pytest plugin or livecov run), or name"
            " their contexts with --e2e GLOB"
        )
    return server.__contains__


@dataclass
class LayerSplit:
    """Per file: the lines covered only end-to-end, only by unit tests, and by both."""

    only_e2e: dict[str, list[int]] = field(default_factory=dict)
    only_unit: dict[str, list[int]] = field(default_factory=dict)
    both: int = 0


def split_by_layer(
    data: CoverageData,
    is_e2e: Callable[[str], bool],
    include: Sequence[str] | None = None,
    statements: Callable[[str], set[int] | None] | None = None,
) -> LayerSplit:
    """Split covered lines by layer; ``include`` globs (relative paths) limit the files.

    ``statements(filename)`` gives the lines that count in a file (None: leave it out);
    without it every recorded line counts.
    """
    split = LayerSplit()
    for filename in sorted(data.measured_files()):
        relative = os.path.relpath(filename)
        if include and not any(fnmatch.fnmatchcase(relative, glob) for glob in include):
            continue
        counted = statements(filename) if statements else None
        if statements and counted is None:
            continue
        e2e: list[int] = []
        unit: list[int] = []
        for line, contexts in sorted(data.contexts_by_lineno(filename).items()):
            if counted is not None and line not in counted:
                continue  # no statement: a number coverage.py's reports ignore too
            kinds = {is_e2e(c) for c in contexts}
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
    is_e2e = e2e_rule(data, patterns)
    with _templates_repaired(data) as data:
        split = split_by_layer(data, is_e2e, include, functools.partial(_statements, cov))
        print_split(split, out or sys.stdout)
    return 0


def _statements(cov: Coverage, filename: str) -> set[int] | None:
    """The file's statements as coverage.py's reports count them; None (and a line on
    stderr) when coverage.py cannot analyse it (its source is gone, it is no Python)."""
    try:
        return set(cov.analysis2(filename)[1])
    except CoverageException as exc:
        print(f"livecov contexts: {os.path.relpath(filename)} left out: {exc}", file=sys.stderr)
        return None


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
        yield read_data(copy)
