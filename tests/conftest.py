"""The whole suite's hooks and fixtures: measured whole under pytest-xdist, one browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.measurement import keep_process_measurement_saving

BROWSER_TESTS = "tests/e2e/"
# The "ways users run it" matrix: each module's cells share a venv built once per worker,
# so a module's cells all go to one worker.
WAYS_TESTS = "tests/ways/"
# hypothesis's pytest plugin imports the whole of hypothesis at the end of every pytest run
# (0.6 s, most of an empty run's time); the pytests this suite starts (pytester's,
# `livecov run -- pytest`) use nothing of it.
WITHOUT_HYPOTHESIS = "no:hypothesispytest"


@pytest.fixture(autouse=True)
def _keep_this_process_measured() -> Iterator[None]:
    """A test that builds a ``coverage.Coverage`` must not cost this process its data.

    See :func:`tests.measurement.keep_process_measurement_saving`.
    """
    with keep_process_measurement_saving():
        yield


@pytest.fixture(autouse=True)
def _child_pytests_without_hypothesis(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = os.environ.get("PYTEST_ADDOPTS", "")
    monkeypatch.setenv("PYTEST_ADDOPTS", f"{given} -p {WITHOUT_HYPOTHESIS}".strip())
    if "pytester" in request.fixturenames:  # pytester clears PYTEST_ADDOPTS: its -p then
        request.getfixturevalue("pytester").plugins.append(WITHOUT_HYPOTHESIS)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("tests.tests_ran")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's: -p no:xdist must still work
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist, the browser tests all go to one worker (one Chromium, one live
    server to start), each module of tests/ways/ to one worker (one venv to build), the
    others to any. Unlike ``--dist loadgroup``, this leaves the
    tests' node ids, hence the coverage contexts named after them, as a serial run has them.
    """
    from xdist.scheduler import LoadScopeScheduling

    class OneBrowser(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(BROWSER_TESTS):
                return BROWSER_TESTS
            if nodeid.startswith(WAYS_TESTS):
                return nodeid.partition("::")[0]
            return nodeid

    return OneBrowser(config, log)
