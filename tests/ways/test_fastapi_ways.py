"""A FastAPI app (TestClient unit tests, httpx tests against the live server, a Jinja
template measured by livecov.jinja), run every way its users run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ways.projects import Cell, Layers, Result, Venv, build_venv, livecov_requirement

PROJECT = "fastapi_app"
MAIN = "shop/main.py"
ITEM_VIEW_LINE = 20  # name = ITEMS.get(item_id)  # the item view
IMPORT_LINE = 7  # TEMPLATES = Jinja2Templates(...)  # import time
RESET_LINE = 35  # ITEMS.clear()
TEMPLATE = "shop/templates/item.html"
NAME_HEADING = 4  # <h1>{{ name }}</h1>, inside {% if name %}
MISSING_HEADING = 6  # <h1>No such item</h1>, in the {% else %}
TEMPLATE_STATEMENTS = {1, 2, 3, 4, 6}
UNIT_MISSING = "tests/test_main.py::test_missing_item|run"
E2E_ADD = "tests/e2e/test_api.py::test_add_then_show"
E2E_EMPTY = "tests/e2e/test_api.py::test_empty_store"
CURL = ("sh", "-c", 'curl -fsS -H "Livecov-Context: smoke" "$LIVE_SERVER_URL/items/3"')
PYTEST = ("pytest", "-p", "no:cacheprovider")
EVERY_TEST_LAYERS = Layers(
    # add_item, the reset hook and the item's name: only the server runs them
    only_e2e={MAIN: "14-15, 35", TEMPLATE: "4"},
    only_unit={MAIN: "26"},  # /health: only the unit tests ask
    summary="22 lines run by both, 4 only end-to-end, 1 only unit.",
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    # uvicorn pinned below livecov's newest, as the app of issue 20 item 8 pinned it.
    return build_venv(
        tmp_path_factory.mktemp("fastapi-venv"),
        [livecov_requirement("pytest,uvicorn"), "uvicorn==0.34.*", "fastapi", "jinja2",
         "httpx", "pytest-cov", "pytest-xdist"],
    )  # fmt: skip


@pytest.fixture
def cell(venv: Venv, tmp_path: Path) -> Cell:
    return Cell(PROJECT, venv, tmp_path / "project")


def assert_every_test_measured(result: Result) -> None:
    assert result.tests_on(MAIN, ITEM_VIEW_LINE) == {UNIT_MISSING, E2E_ADD, E2E_EMPTY}
    assert result.tests_on(TEMPLATE, NAME_HEADING) == {E2E_ADD}
    assert result.tests_on(TEMPLATE, MISSING_HEADING) == {UNIT_MISSING, E2E_EMPTY}
    assert result.lines_with_tests(TEMPLATE) == TEMPLATE_STATEMENTS  # no compiled lines
    assert result.tests_on(MAIN, IMPORT_LINE) == {"", "live-server"}
    assert result.total == "97"  # all but /about
    assert result.layers == EVERY_TEST_LAYERS


@pytest.fixture(scope="module")
def pytest_cov_run(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Result:
    """``pytest --cov --cov-context=test``, measured once for the cells that read it."""
    cell = Cell(PROJECT, venv, tmp_path_factory.mktemp("fastapi-pytest-cov"))
    return cell.measured((*PYTEST, "--cov", "--cov-context=test"))


def test_pytest_cov(pytest_cov_run: Result) -> None:
    """README: ``pytest --cov --cov-context=test``."""
    assert_every_test_measured(pytest_cov_run)


def test_coverage_run_with_livecov_test_contexts(cell: Cell) -> None:
    """README: ``coverage run -m pytest --livecov-test-contexts``."""
    command = ("coverage", "run", "-m", *PYTEST, "--livecov-test-contexts")
    assert_every_test_measured(cell.measured(command))


def test_pytest_xdist(cell: Cell) -> None:
    """README: ``pytest -n 2 --cov`` (with contexts): one server per worker, combined."""
    command = (*PYTEST, "-n", "2", "--cov", "--cov-context=test")
    assert_every_test_measured(cell.measured(command))


def test_reset_credited_to_the_test_it_prepares(pytest_cov_run: Result) -> None:
    """The reset's lines under the test it prepares (or a context of its own)."""
    assert pytest_cov_run.tests_on(MAIN, RESET_LINE) in ({E2E_ADD, E2E_EMPTY}, {"reset"})


def test_livecov_run_pytest(cell: Cell) -> None:
    """README: ``livecov run --app main:app -- pytest tests/e2e``."""
    result = cell.measured(("livecov", "run", "--", *PYTEST, "tests/e2e"))
    assert result.tests_on(MAIN, ITEM_VIEW_LINE) == {E2E_ADD, E2E_EMPTY}
    assert result.tests_on(TEMPLATE, NAME_HEADING) == {E2E_ADD}
    assert result.tests_on(MAIN, IMPORT_LINE) == {"live-server"}
    assert result.total == "93"  # /health and /about never asked for
    assert result.layers.only_unit == {}


def assert_one_curl_measured(result: Result) -> None:
    assert result.tests_on(MAIN, ITEM_VIEW_LINE) == {"smoke"}
    assert result.tests_on(TEMPLATE, NAME_HEADING) == set()
    assert result.tests_on(TEMPLATE, MISSING_HEADING) == {"smoke"}
    assert result.tests_on(MAIN, IMPORT_LINE) == {"live-server"}
    assert result.total == "77"
    assert result.layers.summary == "0 lines run by both, 22 only end-to-end, 0 only unit."


def test_livecov_run_curl(cell: Cell) -> None:
    """README: ``livecov run --app main:app -- sh -c 'curl ...'``."""
    assert_one_curl_measured(cell.measured(("livecov", "run", "--", *CURL)))


def test_livecov_run_gunicorn_uvicorn_workers(cell: Cell) -> None:
    """README: ``livecov run --app main:app --server gunicorn --workers 3 -- ...``."""
    command = ("livecov", "run", "--server", "gunicorn", "--workers", "3", "--", *CURL)
    assert_one_curl_measured(cell.measured(command))


def test_livecov_run_uvicorn_workers(cell: Cell) -> None:
    """README, "Several workers": ``--workers 2`` on an ASGI app: two uvicorn processes,
    each measured, the same numbers as one."""
    command = ("livecov", "run", "--workers", "2", "--", *CURL)
    assert_one_curl_measured(cell.measured(command))
