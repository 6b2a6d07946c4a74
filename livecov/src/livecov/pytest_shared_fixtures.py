"""The test phases that set up or tore down a fixture several tests share.

pytest sets up a fixture of scope session, package, module or class in the setup phase of
the first test that needs it, and tears it down in the teardown phase of the last. With
per-test contexts (pytest-cov's ``--cov-context=test``, ``--livecov-test-contexts``) the
lines it runs are recorded under that one test's phase, though every test using the fixture
depends on them: a change there could break any of them. This plugin notes those phases and,
when the tests have run, marks them in the running measurement's data (a context holding no
lines, :func:`livecov.measure.shared_fixture_marker`), so that ``livecov affected`` takes a
line run in such a phase for one that can reach every test, as a line run outside any test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import coverage
import pytest

from livecov.coverage_data import add_contexts
from livecov.measure import running_data_file, shared_fixture_marker


class SharedFixturePhases:
    """Note each test phase (``<node id>|setup``, ``|run``, ``|teardown``, as the contexts
    name it) in which a fixture broader than one test was set up or torn down."""

    NAME = "livecov-shared-fixtures"

    def __init__(self) -> None:
        self.phase: str | None = None
        self.shared: set[str] = set()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._within(item, "setup"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._within(item, "run"))  # request.getfixturevalue() in a test

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._within(item, "teardown"))

    def _within(self, item: pytest.Item, phase: str) -> Iterator[None]:
        self.phase = f"{item.nodeid}|{phase}"
        try:
            return (yield)
        finally:
            self.phase = None

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Iterator[Any]:
        self._note(fixturedef, request)
        return (yield)

    def pytest_fixture_post_finalizer(self, fixturedef: Any, request: Any) -> None:
        self._note(fixturedef, request)

    def _note(self, fixturedef: Any, request: Any) -> None:
        # request.node: what the fixture's value is kept for. A class-scoped fixture of a
        # test outside any class (pytest-django's autouse one) is kept for that test alone.
        per_test = isinstance(request.node, pytest.Item)
        if fixturedef.scope != "function" and not per_test and self.phase is not None:
            self.shared.add(self.phase)

    def mark(self, cov: coverage.Coverage | None) -> None:
        """Mark the phases noted in the data ``cov`` is recording."""
        if cov is None or not self.shared:
            return
        data_file = running_data_file(cov)  # it writes what was recorded so far
        if data_file.is_file():
            add_contexts(data_file, map(shared_fixture_marker, sorted(self.shared)))


def measures_per_test(config: pytest.Config) -> bool:
    """Whether this session records each test's lines under its own contexts."""
    return bool(
        config.getoption("--livecov-test-contexts")
        or config.getoption("cov_context", None) == "test"
    )


def register(config: pytest.Config) -> None:
    """Note the shared fixtures' phases in a session that measures per test."""
    if measures_per_test(config):
        config.pluginmanager.register(SharedFixturePhases(), SharedFixturePhases.NAME)


def mark_running_data(config: pytest.Config) -> None:
    """When the tests have run: mark the phases noted, if any were."""
    noted = config.pluginmanager.get_plugin(SharedFixturePhases.NAME)
    if isinstance(noted, SharedFixturePhases):
        noted.mark(coverage.Coverage.current())
