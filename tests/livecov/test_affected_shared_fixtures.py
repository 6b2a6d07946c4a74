"""A fixture several tests share (scope session, package, module or class) runs in the setup
phase of the first test that needs it and is torn down in the teardown of the last: per-test
contexts record its lines under that one phase, though every test using it depends on them.
livecov's pytest plugin marks such phases in the data, and ``livecov affected`` selects
every test for a change to a line one of them ran, as for a line run outside any test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import coverage
import pytest

from livecov.affected.selection import select
from livecov.coverage_data import read_data
from livecov.measure import shared_fixture_marker
from livecov.pytest_shared_fixtures import SharedFixturePhases
from tests.projects import commit_all, edit, write

CATALOG = """\
STOCK = {}


def stock_up():
    STOCK["pens"] = 3
    return STOCK


def count(name):
    return STOCK.get(name, 0)


def close_shop():
    STOCK.clear()


def sign():
    return "open"
"""
CONFTEST = """\
import pytest

from catalog import close_shop, sign, stock_up


@pytest.fixture(scope="session")
def stocked():
    yield stock_up()
    close_shop()


@pytest.fixture(scope="class", autouse=True)
def per_class():  # outside a class, set up for each test (as pytest-django's own is)
    yield


@pytest.fixture
def signed():
    return sign()
"""
TESTS = """\
from catalog import count


def test_pens(stocked):
    assert stocked["pens"] == 3


def test_count(stocked):
    assert count("pens") == 3


def test_nothing_stocked(signed):
    assert count("ink") == 0
"""
SETTINGS = """\
[tool.pytest.ini_options]
pythonpath = ["."]

[tool.coverage.run]
source = ["catalog"]
"""
ALL = ["test_catalog.py::test_count", "test_catalog.py::test_nothing_stocked",
       "test_catalog.py::test_pens"]  # fmt: skip
MEASURE = {
    "pytest-cov": ["-m", "pytest", "--cov", "--cov-context=test", "--cov-report="],
    "coverage run": ["-m", "coverage", "run", "-m", "pytest", "--livecov-test-contexts"],
}


def run(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command as the project's user runs it (this suite's own measurement off)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, *args], cwd=where, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(params=list(MEASURE))
def shop(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A git project whose session fixture stocks the shop, measured per test (with
    pytest-cov, or coverage run and livecov record), in that order: test_pens first."""
    write(tmp_path / "pyproject.toml", SETTINGS)
    write(tmp_path / "catalog.py", CATALOG)
    write(tmp_path / "conftest.py", CONFTEST)
    write(tmp_path / "test_catalog.py", TESTS)
    write(tmp_path / ".gitignore", ".coverage*\n__pycache__/\n")
    commit_all(tmp_path)
    measured = run(tmp_path, *MEASURE[request.param], "-q", "-p", "no:randomly")
    assert "3 passed" in measured.stdout, measured.stdout + measured.stderr
    if request.param == "coverage run":
        assert run(tmp_path, "-m", "livecov", "record").returncode == 0
    return tmp_path


@pytest.fixture
def affected(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """What ``livecov affected`` lists in the shop, as it is now (in this process)."""
    monkeypatch.chdir(shop)
    return lambda: select(shop / ".coverage").node_ids()


def test_a_line_the_session_fixture_ran_at_its_setup_selects_every_test(
    shop: Path, affected: Callable[[], list[str]]
) -> None:
    # Recorded under test_pens|setup alone; test_count fails too after this change.
    edit(shop / "catalog.py", 'STOCK["pens"] = 3', 'STOCK["pens"] = 4')
    assert affected() == ALL


def test_a_line_the_session_fixture_ran_at_its_teardown_selects_every_test(
    shop: Path, affected: Callable[[], list[str]]
) -> None:
    edit(shop / "catalog.py", "STOCK.clear()", "STOCK.popitem()")  # under the last test's teardown
    assert affected() == ALL


def test_a_line_run_by_the_tests_themselves_still_selects_those_alone(
    shop: Path, affected: Callable[[], list[str]]
) -> None:
    edit(shop / "catalog.py", "return STOCK.get(name, 0)", "return STOCK.get(name, 1)")
    assert affected() == [
        "test_catalog.py::test_count",
        "test_catalog.py::test_nothing_stocked",
    ]


def test_a_line_a_test_fixture_ran_selects_that_test_beside_a_class_fixture_outside_a_class(
    shop: Path, affected: Callable[[], list[str]]
) -> None:
    """A class-scoped fixture of a test outside any class is set up for that test alone:
    its phase is no shared fixture's (every test's, with pytest-django installed)."""
    edit(shop / "catalog.py", 'return "open"', 'return "closed"')  # signed's, in a setup
    assert affected() == ["test_catalog.py::test_nothing_stocked"]


def test_the_phases_are_marked_in_the_data(shop: Path) -> None:
    contexts = read_data(shop / ".coverage").measured_contexts()
    # The session fixture is torn down after the last test, test_nothing_stocked (no user).
    last = "test_catalog.py::test_nothing_stocked|teardown"
    for phase in ("test_catalog.py::test_pens|setup", last):
        assert phase in contexts
        assert shared_fixture_marker(phase) in contexts
    assert shared_fixture_marker("test_catalog.py::test_count|setup") not in contexts


def test_nothing_is_marked_without_a_measurement_or_its_data(tmp_path: Path) -> None:
    noted = SharedFixturePhases()
    noted.shared.add("test_x.py::test_a|setup")
    noted.mark(None)  # plain pytest --livecov-test-contexts: nothing measures
    unsaved = coverage.Coverage(data_file=str(tmp_path / ".coverage"))
    noted.mark(unsaved)  # nothing recorded yet: no data file to mark
    assert not (tmp_path / ".coverage").exists()
