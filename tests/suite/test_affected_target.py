"""`make test-affected`: only the tests a change can break, from the last `make test`'s data.

Each test runs make in a committed copy of this checkout (``livecov affected`` needs git),
on a few unit tests so that it stays cheap: `make test` leaves their data, recorded at the
copy's commit; a one-line change to a flaskr view then runs only the test that ran it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.projects import commit_all
from tests.suite.checkouts import checkout, make

TESTS = "tests/unit/test_config.py"
HELLO = "tests/unit/test_config.py::test_hello"
VIEW = "flaskr/src/flaskr/__init__.py"


def committed_checkout(destination: Path) -> Path:
    repo = checkout(destination)
    commit_all(repo, "copy")
    return repo


def test_a_one_line_view_change_runs_only_the_test_that_ran_the_view(tmp_path: Path) -> None:
    repo = committed_checkout(tmp_path / "repo")
    measured = make(repo, "test", "JOBS=0", f"PYTEST_ARGS={TESTS}")
    assert "(for livecov affected)" in measured.stdout, measured.stdout + measured.stderr
    suite = int(re.search(r"=+ (\d+) passed", measured.stdout).group(1))
    data = repo / ".coverage"
    before = data.read_bytes()
    view = repo / VIEW
    view.write_text(view.read_text().replace('"Hello, World!"', '"Hello!"', 1))

    run = make(repo, "test-affected", f"PYTEST_ARGS={TESTS}")

    output = run.stdout + run.stderr
    assert run.returncode != 0, output  # the view's test fails: it ran
    assert "workers" not in output  # one test: in one process, whatever JOBS says
    assert f"FAILED {HELLO}" in output
    assert f"1 of {suite} tests affected by 1 changed file(s)" in output
    assert f"livecov affected: 1 selected, {suite - 1} deselected (not affected" in output
    assert data.read_bytes() == before  # nothing measured: make test's data is kept


def test_without_data_it_says_so_in_one_line_and_runs_every_test(tmp_path: Path) -> None:
    repo = committed_checkout(tmp_path / "repo")

    run = make(repo, "test-affected", "JOBS=0", f"PYTEST_ARGS={TESTS}")

    assert run.returncode == 0, run.stdout + run.stderr
    said = [line for line in run.stdout.splitlines() if line.startswith("test-affected:")]
    assert said == [
        "test-affected: no coverage data in .coverage: run the tests measured first "
        "(pytest --cov, livecov run); running every test"
    ]
    assert "deselected" not in run.stdout
    assert " passed" in run.stdout
    assert not (repo / ".coverage").exists()
