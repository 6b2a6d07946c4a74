"""A line the live server runs outside any test's request (at its start-up) selects the tests
that used the server, not every test (real pytest run, real server, real git).

The server records its start-up under ``live-server``; the tests whose requests it served are
marked as the server's in the data (livecov.measure), those too whose requests ran no
measured line (each server process writes down every context it served), so ``livecov
affected`` knows which tests a change to start-up code can reach: those, and the tests that
ran the line themselves.
"""

from __future__ import annotations

from pathlib import Path

import coverage
import pytest

from livecov.affected.selection import select
from livecov.contexts import server_contexts
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


# The app itself is not measured (``omit``): only /hello runs a measured line in the server.
PLAIN_APP = """\
import served


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/hello":
        return [served.hello().encode()]
    return [b"static"]
"""

SERVED = """\
def hello():
    return "Hello"  # only a request to /hello runs this


def label():
    return "static"  # run by test_static and test_label in their own process


def warm(app):
    assert app is not None  # only the server runs this, at its start-up
"""

UNMEASURED_PROJECT = {
    "pyproject.toml": """\
[tool.livecov]
app = "plain:app"
warmup = "served:warm"

[tool.coverage.run]
branch = true
source = ["."]
omit = ["test_*.py", "plain.py"]
""",
    "plain.py": PLAIN_APP,
    "served.py": SERVED,
    "test_pages.py": """\
import served


def test_hello(livecov_client):
    assert livecov_client.get("/hello").text == "Hello"


def test_static(livecov_client):
    assert livecov_client.get("/static.txt").text == served.label()


def test_label():
    assert served.label() == "static"
""",
    ".gitignore": ".coverage*\n__pycache__/\n",
}


# One server process, or gunicorn's two workers (each writes down what it served).
SERVERS = pytest.mark.parametrize(
    "server", ["", 'server = "gunicorn"\nworkers = 2\n'], ids=["werkzeug", "gunicorn-workers"]
)


@SERVERS
def test_a_test_whose_requests_ran_no_measured_line_used_the_server(
    tmp_path: Path, server: str
) -> None:
    for name, text in UNMEASURED_PROJECT.items():
        (tmp_path / name).write_text(text)
    edit(tmp_path / "pyproject.toml", "[tool.livecov]\n", f"[tool.livecov]\n{server}")
    commit_all(tmp_path)
    measure_with_pytest_cov(tmp_path, passed=3)
    data = coverage.CoverageData(str(tmp_path / ".coverage"))
    data.read()
    static = "test_pages.py::test_static"
    assert static not in set().union(*server_lines(tmp_path, "served").values())
    assert static in server_contexts(data)  # the server wrote it down as served

    (tmp_path / "served.py").write_text(SERVED.replace("is not None", "is not False"))
    selection = select(tmp_path / ".coverage", where=tmp_path)

    assert selection.everything == []
    assert selection.node_ids() == ["test_pages.py::test_hello", static]
