"""This suite's guard: a run that collected tests and ran none of them fails.

pytest exits 0 when its test loop returns without running what it collected, so a
``pytest_runtestloop`` that returns early (livecov's own wrapper, broken) would let the
suite, and each session of ``make mutation``, pass without running a test. Runs that
collect nothing (pytest's status 5), collect-only runs and pytest-xdist's workers (the
controller counts their reports) are left alone. Loaded by tests/conftest.py; ``-p
tests.tests_ran`` elsewhere.
"""

from __future__ import annotations

import pytest

NONE_RAN = "collected {count} tests and ran none of them: a pytest_runtestloop returned early"


class RunGuard:
    def __init__(self) -> None:
        self.reports = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports += 1

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = session.config
        if self.reports or not session.testscollected or config.option.collectonly:
            return
        if session.exitstatus == pytest.ExitCode.OK:
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(NONE_RAN.format(count=session.testscollected), red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(RunGuard(), "tests-ran")
