"""The plugin resets the app's data before every test that reaches the live server, however
it reaches it, and the reset's lines count for that test: real pytest, server and Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.livecov.helpers import tagged_lines
from tests.livecov.test_pytest_plugin import (
    PYTEST_TIMEOUT,
    WSGI_AND_ASGI,
    plugin_project,  # noqa: F401 - a fixture
    server_lines,
)

# Only a page: pytest-playwright's base_url asks for the server at run time, so the test's
# static fixture closure never names live_server. branchy:seed counts the resets.
TESTS_PAGE_ONLY = """\
def test_first(page):
    page.goto("/seeded")
    assert page.locator("body").inner_text() == "seeded 2"  # set up once, reset once


def test_second(page):
    page.goto("/seeded")
    assert page.locator("body").inner_text() == "seeded 3"  # and reset again
"""


@WSGI_AND_ASGI
def test_a_test_taking_only_page_gets_fresh_data_and_its_reset_lines(
    pytester: pytest.Pytester,
    plugin_project: Path,  # noqa: F811
    app_module: str,
) -> None:
    pytester.makepyfile(test_pages=TESTS_PAGE_ONLY)
    result = pytester.runpytest_subprocess(
        "test_pages.py", "--cov", "--cov-context=test", "--cov-report=", timeout=PYTEST_TIMEOUT
    )

    result.assert_outcomes(passed=2)
    lines = server_lines(plugin_project, "branchy")  # the seed hook lives in branchy.py
    expected = {
        "live-server",  # the set-up before serving
        "test_pages.py::test_first[chromium]",
        "test_pages.py::test_second[chromium]",
    }
    for line in tagged_lines(plugin_project / "branchy.py")["seed"]:
        assert lines[line] == expected, line


TESTS_FIXTURES = """\
import urllib.request


def seeded(url):
    with urllib.request.urlopen(url + "/seeded") as response:
        return response.read().decode()


def test_base_url(base_url):
    assert seeded(base_url) == "seeded 2"


def test_live_server(live_server):
    assert seeded(live_server.url) == "seeded 3"


def test_neither():
    pass  # no server: no reset


def test_live_server_reset(live_server_reset):
    assert seeded(live_server_reset.url) == "seeded 4"  # one reset, not two


def test_livecov_client(livecov_client):
    assert livecov_client.get("/seeded").text == "seeded 5"
"""


def test_every_way_to_the_server_resets_once_and_others_do_not(
    pytester: pytest.Pytester,
    plugin_project: Path,  # noqa: F811
) -> None:
    pytester.makepyfile(test_fixtures=TESTS_FIXTURES)
    result = pytester.runpytest_subprocess(
        "test_fixtures.py", "--cov", "--cov-context=test", "--cov-report=", timeout=PYTEST_TIMEOUT
    )

    result.assert_outcomes(passed=5)
    lines = server_lines(plugin_project)
    for line in tagged_lines(plugin_project / "branchy.py")["seed"]:
        assert lines[line] == {
            "live-server",
            "test_fixtures.py::test_base_url",
            "test_fixtures.py::test_live_server",
            "test_fixtures.py::test_live_server_reset",
            "test_fixtures.py::test_livecov_client",
        }, line


def test_an_explicit_base_url_is_not_reset(
    pytester: pytest.Pytester,
    plugin_project: Path,  # noqa: F811
) -> None:
    # base_url names another site: the test never reaches livecov's server.
    pytester.makepyfile(test_other="def test_other(base_url):\n    assert base_url\n")
    result = pytester.runpytest_subprocess(
        "test_other.py", "--base-url", "http://127.0.0.1:9", "-p", "no:cov",
        timeout=PYTEST_TIMEOUT,
    )  # fmt: skip

    result.assert_outcomes(passed=1)
    assert not (plugin_project / "seed.txt").exists()  # no server was started for it
