"""A line the live server runs outside any test's request (at its start-up) selects the tests
that used the server, not every test (real pytest run, real server, real git).

The server records its start-up under ``live-server``; the tests whose requests it served are
marked as the server's in the data (livecov.measure), so ``livecov affected`` knows which tests
a change to start-up code can reach: those, and the tests that ran the line themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from livecov.affected.selection import select
from tests.livecov.test_pytest_plugin import (
    measure_with_pytest_cov,
    server_lines,
    write_plugin_project,
)
from tests.projects import commit_all, edit

WARMUP = """\
def check(app):
    return app is not None  # at the server's start-up, and by test_unit


def warm(app):
    assert check(app)  # only the server runs this, before it listens
"""

# A test that never reaches the server, but runs measured code in its own process.
UNIT_TEST = """\
import branchy
import startup


def test_check():
    assert startup.check(branchy.app)
"""
UNIT = "test_unit.py::test_check"

SERVER_TESTS = {
    "test_hello.py::test_hello",
    "test_hello.py::test_seeded_afresh_for_each_test",
    "test_square.py::test_square",
}


@pytest.fixture
def measured(tmp_path: Path) -> Path:
    """The plugin tests' project with a warm-up hook and a test of its own process, in git,
    measured by pytest-cov with per-test contexts."""
    project = write_plugin_project(tmp_path)
    edit(
        project / "pyproject.toml",
        'setup = "branchy:seed"',
        'setup = "branchy:seed"\nwarmup = "startup:warm"',
    )
    (project / "startup.py").write_text(WARMUP)
    (project / "test_unit.py").write_text(UNIT_TEST)
    (project / ".gitignore").write_text(".coverage*\n__pycache__/\n")
    commit_all(project)
    measure_with_pytest_cov(project, passed=4)
    return project


def edited(project: Path, old: str, new: str) -> set[str]:
    """The tests ``livecov affected`` selects with ``old`` changed to ``new`` in startup.py."""
    startup = project / "startup.py"
    startup.write_text(WARMUP.replace(old, new))
    selection = select(project / ".coverage", where=project)
    startup.write_text(WARMUP)
    assert selection.everything == []
    return set(selection.node_ids())


def test_a_start_up_line_selects_the_tests_that_used_the_server(measured: Path) -> None:
    lines = server_lines(measured, "startup")
    assert lines[6] == {"live-server"}  # warm: the server's start-up only
    assert lines[2] == {"live-server", f"{UNIT}|run"}  # check: and the unit test

    assert edited(measured, "assert check(app)", "assert check(app) or True") == SERVER_TESTS
    assert edited(measured, "is not None", "is None") == SERVER_TESTS | {UNIT}
