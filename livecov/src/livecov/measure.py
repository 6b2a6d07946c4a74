"""Coverage data: fold the server's files in with the tests' data, and report on it all.

Features change the data as it is folded in (livecov.jinja repairs templates' arcs,
livecov.affected records the commit): each is a :class:`DataStep` that the front ends
register (:func:`register_step`, through :mod:`livecov.features`); this module imports no
feature. Every read and write of a data file goes through :mod:`livecov.coverage_data`.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import coverage
from coverage.exceptions import CoverageException, CoverageWarning, DataError, NoDataError
from coverage.results import should_fail_under

from livecov.coverage_data import add_context_markers, read_data
from livecov.errors import ConfigError, CoverageLostError
from livecov.protocol import SERVED_CONTEXTS_PREFIX

SERVER_DATA_BASENAME = ".coverage"  # in the server's own data directory
SERVER_CONTEXT_MARK = "livecov-server:"
SHARED_FIXTURE_MARK = "livecov-shared-fixture:"


def server_context_marker(context: str) -> str:
    """The name of the context that says the live server recorded ``context``.

    It holds no lines, so no report shows it, and ``coverage combine`` copies every context
    of every file it combines, so it survives. A digest, not the name: it must not read as
    a test of its own (``livecov affected`` takes a context with ``::`` for a test).
    """
    return SERVER_CONTEXT_MARK + hashlib.sha256(context.encode()).hexdigest()[:32]


def shared_fixture_marker(context: str) -> str:
    """The name of the context that says a fixture shared by several tests (scope session,
    package, module or class) was set up or torn down in the test phase ``context``
    (:mod:`livecov.pytest_shared_fixtures`). Like :func:`server_context_marker`: no lines,
    kept by ``coverage combine``, a digest that reads as no test."""
    return SHARED_FIXTURE_MARK + hashlib.sha256(context.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class DataStep:
    """What a feature does to a data file as livecov folds the server's data in."""

    name: str
    # Changes the data file in place; True when it changed the lines or arcs it holds.
    run: Callable[[str], bool]
    server_files: bool = False  # on each of the server's data files, before they join
    combined: bool = False  # on the data file livecov combined them into (livecov run)


_steps: dict[str, DataStep] = {}


def register_step(step: DataStep) -> None:
    """Run ``step`` whenever data is folded in from now on (again: it replaces the step of
    the same name)."""
    _steps[step.name] = step


def prepare_server_file(path: Path) -> None:
    """Make the server's data file ready to join the tests': mark its contexts as the
    server's (``livecov contexts`` tells layers apart by them), then the registered steps
    (the template repair). The contexts are those it recorded lines under and those its
    processes wrote down as served (a test whose requests ran no measured line used the
    server too: :func:`served_contexts`)."""
    add_context_markers(path, server_context_marker, served_contexts(path.parent))
    for step in _steps.values():
        if step.server_files:
            step.run(str(path))


def served_contexts(folder: Path) -> set[str]:
    """The contexts the server's processes served, as each wrote them down in the server's
    data folder (:func:`livecov.server.measuring.write_down_served`)."""
    listings = folder.glob(f"{SERVED_CONTEXTS_PREFIX}*")
    return {name for listing in listings for name in listing.read_text("utf-8").splitlines()}


def open_coverage(
    rcfile: str | bool = True, data_file: str | None = None, source: list[str] | None = None
) -> coverage.Coverage:
    """A Coverage object with the project's configuration (as ``coverage run`` reads it)."""
    # data_file=None would mean "keep the data in memory": only pass it when given.
    location: dict[str, Any] = {"data_file": data_file} if data_file else {}
    try:
        return coverage.Coverage(config_file=rcfile, source=source, **location)
    except CoverageException as exc:
        raise ConfigError(f"coverage configuration: {exc}") from None


def check_not_measured_into(cov: coverage.Coverage) -> None:
    """Refuse to run under a measurement (``coverage run -m livecov run``) saving into the
    data file of ``cov``: it would overwrite the server's data when it exits, and its
    ``--source`` is not the server's. A measurement of livecov into a file of its own (a
    test suite's ``patch = subprocess``) is no concern of the run."""
    ours = Path(cov.config.data_file).absolute()
    if any(_same_data(running, ours) for running in _running_data_files()):
        raise ConfigError(
            f"livecov run is measured by coverage run into {cov.config.data_file}, which "
            "would overwrite the server's data at exit (and its --source is not the "
            "server's): run livecov run without coverage run; --source, --rcfile and "
            "[tool.coverage.run] say what it measures"
        )


def _running_data_files() -> list[Path]:
    """The data file of the measurement running in this process (none when unmeasured)."""
    running = coverage.Coverage.current()
    return [Path(running.get_data().data_filename())] if running else []


def _same_data(running_file: Path, data_file: Path) -> bool:
    """Whether ``running_file`` is ``data_file``, or one of its parallel files."""
    parallel = running_file.name.startswith(data_file.name + ".")  # <data file>.<suffix>
    return running_file == data_file or (running_file.parent == data_file.parent and parallel)


def check_measured_alike(cov: coverage.Coverage) -> None:
    """Refuse, before anything runs, data the server's would not combine with.

    The server measures as ``cov`` is configured; data measured with branches (``--branch``,
    or ``--cov-branch``) and without never combine. Raises ConfigError saying the way out.
    """
    try:
        data = read_data(cov.config.data_file)
    except DataError as exc:
        raise ConfigError(
            f"cannot read the coverage data {cov.config.data_file}: {exc}; "
            "start afresh with --erase"
        ) from None
    if not data.measured_files() or data.has_arcs() == bool(cov.config.branch):
        return
    if data.has_arcs():
        raise ConfigError(
            f"{cov.config.data_file} holds branch coverage (measured with --branch) but the "
            "server would measure statements only: set branch = true in [tool.coverage.run] "
            "for both, or start afresh with --erase"
        )
    raise ConfigError(
        f"{cov.config.data_file} holds statement coverage but the server would measure "
        "branches ([tool.coverage.run] branch = true): measure both with the same "
        "[tool.coverage.run], or start afresh with --erase"
    )


def combine_into_file(cov: coverage.Coverage, files: Iterable[Path], append: bool = True) -> bool:
    """Combine the server's data ``files`` into that of ``cov`` (keeping it when ``append``);
    return whether the data kept already held a live server's (an earlier run's: the
    contexts livecov marks when a server's data joins, :func:`server_context_marker`)."""
    paths = [str(f) for f in files]
    for path in paths:
        prepare_server_file(Path(path))
    earlier_server = False
    try:
        if append:
            cov.load()
            contexts = cov.get_data().measured_contexts()
            earlier_server = any(c.startswith(SERVER_CONTEXT_MARK) for c in contexts)
        else:
            cov.erase()
        cov.combine(paths, strict=True, keep=False)
        cov.save()
        data_file = cov.get_data().data_filename()
        changed = [step.run(data_file) for step in _steps.values() if step.combined]
        if any(changed):
            cov.load()  # changed on disk (templates' arcs repaired)
    except DataError as exc:
        raise CoverageLostError(
            f"cannot combine the server's data with {cov.config.data_file}: {exc}. "
            "Measure the tests and the server with the same settings, or start afresh "
            "with --erase."
        ) from None
    return earlier_server


def merge_into_running(files: Iterable[Path]) -> None:
    """Hand the server's data to the coverage measurement running in this process.

    This is how the pytest plugin gives the server's lines to pytest-cov or to
    ``coverage run``, so they are reported with the tests' own data. A measurement in
    parallel mode (pytest-cov always is; so is ``patch = subprocess``) combines every
    ``<data file>.*`` at the end: the server's files are moved there. Otherwise (one data
    file, or data in memory as pytest-testmon keeps it) they are added to the running data
    directly.
    """
    files = list(files)
    if not files:
        return  # the server was not measured
    cov = coverage.Coverage.current()
    if cov is None:
        raise ConfigError(
            "the server wrote coverage data but nothing measures this process to add it to; "
            "run under pytest --cov or coverage run"
        )
    running_file = running_data_file(cov)
    basename = Path(cov.config.data_file).name
    # In parallel mode the running file is ``<data file>.<suffix>``. A measurement whose
    # data lives elsewhere (pytest-testmon's is an in-memory database) takes the data too.
    parallel = running_file.name.startswith(basename + ".")
    for path in files:
        prepare_server_file(path)
        if parallel:
            # Parallel mode. Not data.update(): coverage names parallel files by a hash
            # of what its tracer recorded, and combine drops files whose hashes are equal.
            suffix = path.name.removeprefix(SERVER_DATA_BASENAME)
            shutil.move(path, running_file.with_name(basename + suffix))
        else:
            cov.combine([str(path)], keep=False)  # applies the project's [paths] too


def running_data_file(cov: coverage.Coverage) -> Path:
    """The running measurement's data file, by its absolute name (coverage anchors it where
    measurement started, whatever the current directory is now).

    Asking coverage.py for it flushes what was recorded and warns ``No data was collected``
    when nothing was yet, as in a session of browser tests only, whose lines are all the
    server's, which this process is about to add: that warning would be wrong. Whether
    data was collected is coverage.py's to say when the measurement ends, as it does.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No data was collected", CoverageWarning)
        return Path(cov.get_data().data_filename())


@dataclass
class ReportOptions:
    """Which reports to write, and the threshold."""

    html: str | None = None
    xml: str | None = None
    json: str | None = None
    show_contexts: bool = True
    fail_under: float | None = None
    skip_covered: bool | None = None


@dataclass
class ReportResult:
    total: float
    fail_under: float
    failed: bool


def write_reports(
    cov: coverage.Coverage, options: ReportOptions, out: TextIO | None = None
) -> ReportResult:
    """Print the terminal report (missing lines and branches), write the others."""
    out = out or sys.stdout
    try:
        total = cov.report(show_missing=True, skip_covered=options.skip_covered, file=out)
    except NoDataError:
        raise CoverageLostError(f"no coverage data to report in {cov.config.data_file}") from None
    if options.html:
        cov.html_report(directory=options.html, show_contexts=options.show_contexts)
        print(f"HTML report: {Path(options.html, 'index.html')}", file=out)
    if options.xml:
        cov.xml_report(outfile=options.xml)
        print(f"XML report: {options.xml}", file=out)
    if options.json:
        cov.json_report(outfile=options.json, show_contexts=options.show_contexts)
        print(f"JSON report: {options.json}", file=out)
    fail_under = cov.config.fail_under if options.fail_under is None else options.fail_under
    failed = should_fail_under(total, fail_under, cov.config.precision)
    return ReportResult(total=total, fail_under=fail_under, failed=failed)
