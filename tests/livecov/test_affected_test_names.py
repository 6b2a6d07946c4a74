"""Where the data's node ids live: a project in a subfolder of its repository (pytest's
rootdir is not the git root), and test names no test file here holds (the tests of a pytest
run inside a test)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from livecov.measure import server_context_marker
from tests.livecov.affected_project import ALL, CONTEXTS, Project
from tests.projects import commit_all, edit, write

SHAPES = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
TESTS = """\
from shapes import add, sub


def test_add():
    assert add(1, 2) == 3


def test_sub():
    assert sub(3, 2) == 1
"""
SETTINGS = """\
[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]

[tool.coverage.run]
source = ["shapes"]
"""
INNER = "test_inner.py::test_hello"  # a test of a pytest run inside one of the suite's tests


def run(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command as the project's user runs it (this suite's own measurement off)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, *args], cwd=where, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A project in the subfolder app/ of its git repository, measured by pytest-cov with
    per-test contexts: its node ids are relative to app/, its paths in git to the root."""
    app = tmp_path / "repo" / "app"
    write(app / "pyproject.toml", SETTINGS)
    write(app / "shapes.py", SHAPES)
    write(app / "tests" / "test_shapes.py", TESTS)
    write(tmp_path / "repo" / "scripts" / "test_shapes.py", "# a check by hand, not app's\n")
    write(tmp_path / "repo" / ".gitignore", ".coverage*\n__pycache__/\n.pytest_cache/\n")
    commit_all(tmp_path / "repo")
    measure(app)
    return app


def measure(app: Path) -> None:
    pytest_args = ("-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider")
    measured = run(app, *pytest_args, "--cov", "--cov-context=test", "--cov-report=")
    assert "2 passed" in measured.stdout, measured.stdout + measured.stderr


def test_in_a_subfolder_project_a_changed_test_file_runs_its_tests(app: Path) -> None:
    edit(app / "tests" / "test_shapes.py", "== 1", "== 7")  # test_sub fails now

    affected = run(app, "-m", "pytest", "-q", "-p", "no:randomly", "--livecov-affected")

    assert affected.returncode == 1, affected.stdout + affected.stderr
    assert "FAILED tests/test_shapes.py::test_sub" in affected.stdout
    assert "1 failed, 1 passed" in affected.stdout


@pytest.mark.parametrize("where", ["app", "root"])
def test_in_a_subfolder_project_livecov_affected_names_tests_as_pytest_does(
    app: Path, where: str
) -> None:
    edit(app / "tests" / "test_shapes.py", "== 1", "== 7")
    edit(app / "shapes.py", "return a + b", "return b + a")
    cwd = app if where == "app" else app.parent

    listed = run(cwd, "-m", "livecov", "affected", "--data-file", str(app / ".coverage"))

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["tests/test_shapes.py"]  # test_add's too: same file
    assert "1 of 2 tests affected by 2 changed file(s)" in listed.stderr


def test_of_two_projects_with_the_same_test_names_the_one_it_runs_in_is_read(app: Path) -> None:
    web = app.parent / "web"  # a second project beside app/, its tests named alike
    write(web / "tests" / "test_shapes.py", TESTS)
    commit_all(app.parent)
    measure(app)
    edit(app / "tests" / "test_shapes.py", "== 1", "== 7")

    listed = run(app, "-m", "livecov", "affected", "--data-file", str(app / ".coverage"))

    assert listed.stdout.splitlines() == ["tests/test_shapes.py"]


def test_in_a_subfolder_project_a_source_change_selects_its_tests_alone(app: Path) -> None:
    edit(app / "shapes.py", "return a - b", "return b - a")

    listed = run(app.parent, "-m", "livecov", "affected", "--data-file", str(app / ".coverage"))

    assert listed.stdout.splitlines() == ["tests/test_shapes.py::test_sub"]


@pytest.mark.parametrize("where", ["app", "root"])
def test_a_subfolder_project_measured_with_relative_files_selects_by_line(
    app: Path, where: str
) -> None:
    """coverage's relative_files names files relative to app/, where pytest ran."""
    (app / "pyproject.toml").write_text(SETTINGS + "relative_files = true\n")
    commit_all(app.parent)
    measure(app)
    edit(app / "shapes.py", "return a - b", "return b - a")
    cwd = app if where == "app" else app.parent

    listed = run(cwd, "-m", "livecov", "affected", "--data-file", str(app / ".coverage"))
    affected = run(app, "-m", "pytest", "-q", "-p", "no:randomly", "--livecov-affected")

    assert listed.stdout.splitlines() == ["tests/test_shapes.py::test_sub"], listed.stderr
    assert "1 failed, 1 deselected" in affected.stdout, affected.stdout


def test_a_data_file_outside_the_project_given_in_two_words_is_refused(
    app: Path, tmp_path: Path
) -> None:
    """pytest took it for a test path when it chose its rootdir: a wrong rootdir."""
    data = tmp_path / "main.coverage"  # as CI fetches main's: outside the checkout
    shutil.copy(app / ".coverage", data)
    edit(app / "tests" / "test_shapes.py", "== 1", "== 7")
    pytest_args = ("-m", "pytest", "-q", "-p", "no:randomly", "--livecov-affected")

    two_words = run(app, *pytest_args, "--livecov-affected-data", str(data))
    one_word = run(app, *pytest_args, f"--livecov-affected-data={data}")

    assert two_words.returncode == 4
    assert two_words.stderr.strip() == (
        f"ERROR: livecov: pytest took {data} for a test path when it chose its rootdir "
        f"({tmp_path}, not {app}): write --livecov-affected-data={data}"
    )
    assert "1 failed, 1 passed" in one_word.stdout, one_word.stdout + one_word.stderr


AFFECTED = (
    '\n[tool.livecov.affected]\nignore = ["docs/*", "../scripts/*"]\nalways = ["schema.sql"]\n'
)


@pytest.mark.parametrize("where", ["app", "root"])
def test_a_subfolder_projects_own_affected_settings_apply_relative_to_it(
    app: Path, where: str
) -> None:
    (app / "pyproject.toml").write_text(SETTINGS + AFFECTED)
    write(app.parent / "pyproject.toml", "[tool.livecov.affected]\nalways = ['docs/*']\n")
    write(app / "schema.sql", "create table t (id);\n")
    commit_all(app.parent)
    measure(app)
    write(app / "docs" / "guide.md", "words\n")
    edit(app.parent / "scripts" / "test_shapes.py", "by hand", "by hand, twice")  # a sibling's
    cwd = app if where == "app" else app.parent
    data = ("--data-file", str(app / ".coverage"))

    ignored = run(cwd, "-m", "livecov", "affected", *data)
    edit(app / "schema.sql", "(id)", "(id, name)")
    always = run(cwd, "-m", "livecov", "affected", *data)

    assert "0 of 2 tests affected by 2 changed file(s)" in ignored.stderr, ignored.stderr
    assert "every test is affected since" in always.stderr
    assert "app/schema.sql changed ([tool.livecov.affected] always)" in always.stderr


def test_a_tests_root_outside_the_repository_is_found_from_the_data(repo: Project) -> None:
    repo.write("other/test_views.py", "# the same name elsewhere, no test of the suite\n")
    repo.commit()
    repo.measure()
    repo.edit("views.py", 'return "big"', 'return "BIG"')

    selection = repo.select(tests_root=repo.root.parent)  # a rootdir above the git root

    assert selection.node_ids() == ["tests/test_views.py::test_big"]
    assert selection.known == ALL


def measure_with_inner(repo: Project, server: bool = False) -> None:
    """The data as a suite leaves it whose test ran pytest inside (pytester, a subprocess):
    the inner run's live server recorded a line under the inner test's name."""
    repo.measure({**CONTEXTS, INNER: {"helpers.py": [5]}})
    if server:  # the contexts livecov marks as its live server's
        with sqlite3.connect(repo.data) as db:
            db.executemany(
                "INSERT INTO context (context) VALUES (?)",
                [(server_context_marker(c),) for c in ("live-server", INNER)],
            )
        db.close()


def test_a_line_run_under_a_name_no_test_file_holds_selects_every_test(repo: Project) -> None:
    measure_with_inner(repo)
    repo.edit("helpers.py", "total = y * 2", "total = y * 3")

    selection = repo.select()

    assert selection.everything == [
        f"helpers.py:5 ran for {INNER}, which no test file here holds (a pytest run inside"
        " a test: which test started it is not recorded)"
    ]
    assert selection.known == ALL
    assert INNER not in selection.node_ids()  # `pytest $(livecov affected)` can run them
    assert set(selection.node_ids()) == ALL


def test_a_start_up_line_when_an_inner_run_used_a_live_server_selects_every_test(
    repo: Project,
) -> None:
    measure_with_inner(repo, server=True)
    repo.edit("helpers.py", "return 0", "return 1")  # run by a server at its start-up

    assert repo.select().everything == [
        f"helpers.py:10 ran for {INNER}, which no test file here holds (a pytest run inside"
        " a test: which test started it is not recorded)"
    ]


def test_names_of_other_tests_change_nothing_elsewhere(repo: Project) -> None:
    measure_with_inner(repo)
    repo.edit("views.py", 'return "big"', 'return "BIG"')

    assert repo.select().node_ids() == ["tests/test_views.py::test_big"]


def test_a_test_file_deleted_since_the_base_still_names_its_tests(repo: Project) -> None:
    (repo.root / "tests" / "test_other.py").unlink()
    repo.edit("views.py", "return 1", "return 2")  # run by test_other alone

    selection = repo.select()

    assert selection.node_ids() == ["tests/test_other.py::test_other[x]"]
    assert selection.known == ALL
