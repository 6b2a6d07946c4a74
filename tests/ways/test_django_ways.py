"""A Django project (pytest-django installed, django_coverage_plugin, Playwright page tests,
Django's own test runner too), run every way its users run it."""

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

PROJECT = "django_site"
VIEWS = "mysite/views.py"
ITEMS_VIEW_LINE = 12  # names = [...]  # the items view
IMPORT_LINE = 4  # TITLE = "Items"  # import time
WSGI = "mysite/wsgi.py"
TEMPLATE = "mysite/templates/polls/items.html"
ITEM_LINE = 6  # <li>{{ name }}</li>, inside {% for %}
NO_ITEMS_LINE = 10  # <p>No items.</p>, in the {% else %}
UNIT_NO_ITEMS = "tests/test_views.py::test_no_items|run"
PAGE_TWO_ITEMS = "tests/e2e/test_pages.py::test_two_items[chromium]"
CURL = ("sh", "-c", 'curl -fsS -H "Livecov-Context: smoke" "$LIVE_SERVER_URL/items/2/"')
PYTEST = ("pytest", "-p", "no:cacheprovider")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return build_venv(
        tmp_path_factory.mktemp("django-venv"),
        [livecov_requirement("pytest,werkzeug,gunicorn"), "django", "django-coverage-plugin",
         "pytest-django", "pytest-cov", "pytest-xdist"],
    )  # fmt: skip


@pytest.fixture
def cell(venv: Venv, tmp_path: Path) -> Cell:
    return Cell(PROJECT, venv, tmp_path / "project")


def assert_every_test_measured(result: Result) -> None:
    assert result.tests_on(VIEWS, ITEMS_VIEW_LINE) == {UNIT_NO_ITEMS, PAGE_TWO_ITEMS}
    assert result.tests_on(TEMPLATE, ITEM_LINE) == {PAGE_TWO_ITEMS}
    assert result.tests_on(TEMPLATE, NO_ITEMS_LINE) == {UNIT_NO_ITEMS}
    assert recorded_by_server(result.tests_on(VIEWS, IMPORT_LINE)) == {"live-server"}
    assert result.missing_lines() == {VIEWS: [21]}  # /about, never asked for
    assert result.total == "97"
    assert result.layers == Layers(
        only_e2e={TEMPLATE: "4-6, 8", VIEWS: "8", WSGI: "1, 3, 5-6"},  # the items, /, wsgi.py
        only_unit={TEMPLATE: "10", VIEWS: "17"},  # "No items.", /health
        summary="25 lines run by both, 9 only end-to-end, 2 only unit.",
    )


def test_pytest_cov(cell: Cell) -> None:
    """README (Django): ``pytest --cov, with the plugin``."""
    assert_every_test_measured(cell.measured((*PYTEST, "--cov", "--cov-context=test")))


def assert_one_curl_measured(result: Result) -> None:
    assert result.tests_on(VIEWS, ITEMS_VIEW_LINE) == {"smoke"}
    assert result.tests_on(TEMPLATE, ITEM_LINE) == {"smoke"}
    assert result.tests_on(TEMPLATE, NO_ITEMS_LINE) == set()
    # Loaded before the first request, by every worker: the server's, not the test's.
    assert result.tests_on(VIEWS, IMPORT_LINE) == {"live-server"}
    assert result.total == "89"


def test_livecov_run_curl(cell: Cell) -> None:
    """README (Django): ``livecov run -- python e2e_client.py``, here a curl."""
    assert_one_curl_measured(cell.measured(("livecov", "run", "--", *CURL)))


def test_livecov_run_gunicorn_workers(cell: Cell) -> None:
    """README (Django): ``livecov run --server gunicorn --workers 3 -- ...``."""
    command = ("livecov", "run", "--server", "gunicorn", "--workers", "3", "--", *CURL)
    assert_one_curl_measured(cell.measured(command))


def test_django_test_runner_then_livecov_run(cell: Cell) -> None:
    """Unit tests by Django's own runner under ``coverage run --context=unit``, then the
    end-to-end client under ``livecov run``, then ``livecov contexts``."""
    result = cell.measured(
        ("coverage", "run", "--context=unit", "manage.py", "test", "mysite"),
        ("livecov", "run", "--", *CURL),
    )
    assert result.tests_on(VIEWS, ITEMS_VIEW_LINE) == {"unit", "smoke"}
    assert result.tests_on(TEMPLATE, ITEM_LINE) == {"smoke"}
    assert result.tests_on(TEMPLATE, NO_ITEMS_LINE) == {"unit"}
    assert result.total == "95"  # all but the / and /about views
    assert result.missing_lines() == {VIEWS: [8, 21]}
    assert result.layers == Layers(
        only_e2e={TEMPLATE: "4-6, 8", WSGI: "1, 3, 5-6"},
        only_unit={TEMPLATE: "10", VIEWS: "17"},
        summary="25 lines run by both, 8 only end-to-end, 2 only unit.",
    )
