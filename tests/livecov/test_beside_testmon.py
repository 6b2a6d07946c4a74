"""livecov's live server under another tool's measurement: pytest-testmon's.

pytest-testmon measures each test with a Coverage object of its own, built in code with
``omit`` as a set. livecov measures the server with the measurement running in the test
process, so with testmon's: its configuration must reach the server (coverage.py writes it
as JSON, which has no sets), and the server's lines, each under the test whose request ran
them, reach testmon when the live server stops.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from coverage.config import CoverageConfig

from livecov.server_coverage import server_coverage_config
from tests.livecov.test_pytest_plugin import PYTEST_TIMEOUT, plugin_project  # noqa: F401


def test_a_configuration_holding_sets_reaches_the_server(tmp_path: Path) -> None:
    config = CoverageConfig()
    config.run_omit = {"b/*", "a/*"}  # as pytest-testmon gives it

    serialized = server_coverage_config(config, tmp_path, "werkzeug", None, 1, True)
    served = CoverageConfig.deserialize(serialized)

    assert served.run_omit == ["a/*", "b/*"]
    assert config.run_omit == {"b/*", "a/*"}  # the running measurement's own is untouched


def test_testmon_gets_the_server_lines_of_each_browser_test(
    pytester: pytest.Pytester,
    plugin_project: Path,  # noqa: F811
) -> None:
    first = pytester.runpytest_subprocess("-p", "no:cov", "--testmon", timeout=PYTEST_TIMEOUT)
    first.assert_outcomes(passed=3)
    assert not list(plugin_project.glob(".coverage*"))  # the server's data went to testmon

    # A line only test_square's requests run, in the server: testmon knows test_square
    # ran it only because livecov gave it the server's lines. (Which other tests testmon
    # runs again is testmon's own business.)
    branchy = plugin_project / "branchy.py"
    branchy.write_text(branchy.read_text().replace("str(number * number)", "str(number**2)"))
    second = pytester.runpytest_subprocess(
        "-p", "no:cov", "--testmon", "-v", timeout=PYTEST_TIMEOUT
    )

    assert "test_square.py::test_square PASSED" in second.stdout.str()
