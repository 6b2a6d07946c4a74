"""A Flask app factory in a src layout (pytest-flask installed, Playwright page tests, a
Jinja template measured by livecov.jinja), run every way its users run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ways.projects import (
    Cell,
    Layers,
    Result,
    Venv,
    build_venv,
    livecov_requirement,
    recorded_by_server,
)

PROJECT = "flask_src"
VIEW = "src/blog/views.py"
HELLO_VIEW_LINE = 15  # VISITS.append(name)  # the hello view
TEMPLATE = "src/blog/templates/index.html"
HELLO_HEADING = 4  # <h1>Hello, {{ name }}!</h1>, inside {% if name %}
WELCOME_HEADING = 6  # <h1>Welcome</h1>, in the {% else %}
TEMPLATE_STATEMENTS = {1, 2, 3, 4, 6, 8}
PACKAGE = "src/blog/__init__.py"
IMPORT_LINE = 5  # GREETING = "Hello"
RESET_LINE = 15  # views.VISITS.clear()
UNIT_HELLO = "tests/test_views.py::test_hello|run"
UNIT_INDEX = "tests/test_views.py::test_index|run"
PAGE_HOME = "tests/e2e/test_pages.py::test_home[chromium]"
PAGE_GREETING = "tests/e2e/test_pages.py::test_greeting[chromium]"
CURL = ("sh", "-c", 'curl -fsS -H "Livecov-Context: smoke" "$LIVE_SERVER_URL/hello/eve"')
PYTEST = ("pytest", "-p", "no:cacheprovider")
# Unit and page tests together: everything but the /about view, never asked for (97 %).
EVERY_TEST_TOTAL = "97"
EVERY_TEST_LAYERS = Layers(
    only_e2e={PACKAGE: "15"},  # the reset hook's body: only the server runs it
    only_unit={VIEW: "21"},  # /health: only the unit tests ask
    summary="29 lines run by both, 1 only end-to-end, 1 only unit.",
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return build_venv(
        tmp_path_factory.mktemp("flask-venv"),
        [livecov_requirement("pytest,gunicorn"), "flask", "pytest-flask", "pytest-cov",
         "pytest-xdist"],
    )  # fmt: skip


@pytest.fixture
def cell(venv: Venv, tmp_path: Path) -> Cell:
    return Cell(PROJECT, venv, tmp_path / "project")


def assert_every_test_measured(result: Result) -> None:
    """Unit tests (pytest-flask's client) and page tests (Playwright) in one report, each
    line with the tests that ran it, as ``pytest --cov --cov-context=test`` gives them."""
    assert result.tests_on(VIEW, HELLO_VIEW_LINE) == {UNIT_HELLO, PAGE_GREETING}
    assert result.tests_on(TEMPLATE, HELLO_HEADING) == {UNIT_HELLO, PAGE_GREETING}
    assert result.tests_on(TEMPLATE, WELCOME_HEADING) == {UNIT_INDEX, PAGE_HOME}
    assert result.lines_with_tests(TEMPLATE) == TEMPLATE_STATEMENTS
    assert recorded_by_server(result.tests_on(PACKAGE, IMPORT_LINE)) == {"live-server"}
    # Reset before each page test, under that test's name (or a context of its own).
    assert result.tests_on(PACKAGE, RESET_LINE) in ({PAGE_HOME, PAGE_GREETING}, {"reset"})
    assert result.total == EVERY_TEST_TOTAL
    assert result.layers == EVERY_TEST_LAYERS


def test_pytest_cov(cell: Cell) -> None:
    """README: ``pytest --cov --cov-context=test``."""
    assert_every_test_measured(cell.measured((*PYTEST, "--cov", "--cov-context=test")))


def test_livecov_run_pytest(cell: Cell) -> None:
    """README: ``livecov run ... -- pytest tests/e2e``: the page tests reach the run's
    server, each under its own name; the test process itself is not measured."""
    result = cell.measured(("livecov", "run", "--", *PYTEST, "tests/e2e"))
    assert result.tests_on(VIEW, HELLO_VIEW_LINE) == {PAGE_GREETING}
    assert result.tests_on(TEMPLATE, HELLO_HEADING) == {PAGE_GREETING}
    assert result.tests_on(TEMPLATE, WELCOME_HEADING) == {PAGE_HOME}
    assert result.tests_on(PACKAGE, IMPORT_LINE) == {"live-server"}
    assert result.total == "94"  # /health and /about never asked for
    assert result.layers.only_unit == {}


def assert_one_curl_measured(result: Result) -> None:
    assert result.tests_on(VIEW, HELLO_VIEW_LINE) == {"smoke"}
    assert result.tests_on(TEMPLATE, HELLO_HEADING) == {"smoke"}
    assert result.tests_on(TEMPLATE, WELCOME_HEADING) == set()
    assert result.tests_on(PACKAGE, IMPORT_LINE) == {"live-server"}
    assert result.total == "79"
    assert result.layers.only_unit == {}
    assert result.layers.summary == "0 lines run by both, 26 only end-to-end, 0 only unit."


def test_livecov_run_curl(cell: Cell) -> None:
    """README: ``livecov run -- sh -c 'curl ...'``, a client naming its test in a header."""
    assert_one_curl_measured(cell.measured(("livecov", "run", "--", *CURL)))


def test_src_layout_without_livecov_pythonpath_refused_in_one_line(cell: Cell) -> None:
    """pytest's ``pythonpath = ["src"]`` does not reach the server: one line says what to set."""
    pyproject = cell.folder / "pyproject.toml"
    config = pyproject.read_text()
    pyproject.write_text(config.replace('pythonpath = ["src"]  #', "#"))
    assert 'pythonpath = ["src"]' in pyproject.read_text()  # pytest's, still there
    output = cell.run("livecov", "run", "--", *CURL, expect_status=4)
    (refusal,) = output.splitlines()
    assert refusal.startswith("livecov: ")
    assert "pythonpath" in refusal


def test_several_workers_under_werkzeug_refused_in_one_line(cell: Cell) -> None:
    """README, "Several workers": werkzeug serves from one process; more is refused in one
    line naming the server that can."""
    output = cell.run("livecov", "run", "--workers", "2", "--", *CURL, expect_status=4)
    (refusal,) = output.splitlines()
    assert refusal.startswith("livecov: ")
    assert "--server gunicorn" in refusal
