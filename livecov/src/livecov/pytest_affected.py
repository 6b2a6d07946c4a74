"""pytest wiring for test selection (``--livecov-affected``) and for recording what it needs.

The logic is the :mod:`livecov.affected` package's; this only connects it to pytest's hooks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from coverage.config import read_coverage_config

from livecov.affected.record import record_if_in_git
from livecov.affected.selection import Selection, describe, select
from livecov.errors import LivecovError

WORKER_COUNTS = "livecov_affected"  # key of an xdist worker's output: (selected, deselected)


def add_options(group: Any) -> None:
    group.addoption(
        "--livecov-affected",
        nargs="?",
        const="",
        default=None,
        metavar="REV",
        help="run only the tests that the changes since REV can break (default: the commit "
        "the coverage data was measured at); tests the data does not know always run. "
        "Write it --livecov-affected=REV",
    )
    group.addoption(
        "--livecov-affected-data",
        metavar="FILE",
        default=None,
        help="the coverage data with per-test contexts to select with (default: .coverage, "
        "or [tool.coverage.run] data_file). Write it --livecov-affected-data=FILE",
    )


def configure(config: pytest.Config) -> None:
    base = config.getoption("--livecov-affected")
    if base and Path(config.invocation_params.dir, base.partition("::")[0]).exists():
        # `pytest --livecov-affected tests/unit`: the test path was taken for REV.
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            config.args.insert(0, base)
        else:
            config.args[:] = [base]
        base = config.option.livecov_affected = ""  # xdist's workers get the options as fixed
    if base is not None:
        _refuse_a_rootdir_chosen_by_the_data_file(config)
        data_file = config.getoption("--livecov-affected-data") or default_data_file(config)
        try:
            selection = select(
                data_file, base or None, where=config.rootpath, tests_root=config.rootpath
            )
        except LivecovError as exc:
            raise pytest.UsageError(f"livecov: {exc}") from None
        config.pluginmanager.register(AffectedTests(selection), "livecov-affected")
    else:
        config.pluginmanager.register(RecordCommit(), "livecov-record")


def _refuse_a_rootdir_chosen_by_the_data_file(config: pytest.Config) -> None:
    """``--livecov-affected-data FILE`` (two words), FILE outside the folder pytest runs in:
    pytest chooses its rootdir before it knows livecov's options, so it took FILE for a test
    path and looked for its configuration from a folder above this one (its ini options,
    rootdir and node ids then all wrong). ``--livecov-affected-data=FILE`` is no path."""
    args = list(config.invocation_params.args)
    if "--livecov-affected-data" not in args[:-1]:
        return
    value = args[args.index("--livecov-affected-data") + 1]
    here, rootdir = config.invocation_params.dir, config.rootpath
    inside = (here / value).resolve().is_relative_to(here)
    if inside or rootdir == here or not here.is_relative_to(rootdir):
        return  # pytest looked from here (or the rootdir is the test paths' own, or given)
    below_rootdir = [here, *here.parents][: len(here.relative_to(rootdir).parts)]
    configured = next((f for f in below_rootdir if _holds_pytest_configuration(f)), None)
    if configured is None and config.inipath is not None:
        return  # the configuration pytest found is the one it finds from here
    raise pytest.UsageError(
        f"livecov: pytest took {value} for a test path when it chose its rootdir "
        f"({rootdir}, not {configured or here}): write --livecov-affected-data={value}"
    )


def _holds_pytest_configuration(folder: Path) -> bool:
    """A file of ``folder`` that pytest would take for its configuration file."""
    marks = {
        "pytest.ini": "",
        ".pytest.ini": "",
        "pyproject.toml": "[tool.pytest",
        "tox.ini": "[pytest]",
        "setup.cfg": "[tool:pytest]",
    }
    for name, mark in marks.items():
        path = folder / name
        if path.is_file() and mark in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def default_data_file(config: pytest.Config) -> Path:
    """The project's coverage data file, as ``coverage`` would find it from here.

    Read without building a Coverage object: one more in a measured process stops it
    from saving its own data.
    """
    return Path(read_coverage_config(config_file=True, warn=lambda message: None).data_file)


class AffectedTests:
    """Deselect the tests the change cannot reach; say how many."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.counts = (0, 0)  # selected, deselected

    def pytest_report_header(self) -> list[str]:
        lines = [f"livecov: {warning}" for warning in self.selection.warnings]
        return [*lines, f"livecov affected: {describe(self.selection)}"]

    @pytest.hookimpl(tryfirst=True)  # before sharding plugins split what is left
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[Any]) -> None:
        keep = [item for item in items if self.selection.selects(item.nodeid)]
        dropped = [item for item in items if not self.selection.selects(item.nodeid)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
        self.counts = (len(keep), len(dropped))
        if hasattr(config, "workeroutput"):
            config.workeroutput[WORKER_COUNTS] = self.counts

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        # Every worker collects, and selects, the same tests.
        selected, deselected = getattr(node, "workeroutput", {}).get(WORKER_COUNTS, self.counts)
        self.counts = (selected, deselected)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        selected, deselected = self.counts
        terminalreporter.write_line(
            f"livecov affected: {selected} selected, {deselected} deselected (not affected "
            f"by the changes since {self.selection.base[:12]})"
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """No test affected is a success, not pytest's "no tests collected" (status 5): the
        change cannot break a test, and a CI job for a docs-only change must pass."""
        selected, deselected = self.counts
        if session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and deselected > selected == 0:
            session.exitstatus = pytest.ExitCode.OK


class RecordCommit:
    """After pytest-cov combined its data, record the commit and files it was measured on."""

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # pytest-cov combines at the end of the test loop: its controller's data is final.
        # Under `coverage run` the data is not written yet: `livecov record` after combining.
        controller = getattr(session.config.pluginmanager.getplugin("_cov"), "cov_controller", None)
        # Not on an xdist worker: its data is only a part, combined by the controller.
        cov = None if hasattr(session.config, "workerinput") else getattr(controller, "cov", None)
        record_if_in_git(cov and cov.get_data().data_filename(), session.config.rootpath)
