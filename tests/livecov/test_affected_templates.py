"""``livecov affected`` on templates measured for real by livecov.jinja.

A Flask app written for the template tests (tests/livecov/jinja_app/bookshelf), in git,
measured by a real pytest run: two tests drive its live server (each names itself in the
context header, as livecov's browser fixtures do), one renders with Flask's test client.
The data is made the two ways a user makes it: as ``make test`` does (``coverage run`` with
``--livecov-test-contexts``, combine, the template repair step, ``livecov record``), and by
pytest-cov (``--cov --cov-context=test``, which records by itself and repairs nothing).
Then a template changes, and the selection must be exactly the tests that rendered it.

Which test renders what (bookshelf's templates):

    test_shelf       GET /?reader=ann   books.html's loop body, _nav "Reading as", stars()
    test_book        GET /book/1        book.html's block main ("In print"), _nav "Join"
    test_empty_shelf test client /?empty=1   books.html's for-else, _nav "Join"
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest

from livecov.affected.record import read_record
from livecov.affected.selection import select
from livecov.jinja import PLUGIN_NAME
from tests.projects import commit_all, edit, git

APP = Path(__file__).parent / "jinja_app"
TEMPLATES = "bookshelf/templates"
SHELF = "test_browse.py::test_shelf"
BOOK = "test_browse.py::test_book"
EMPTY = "test_pages.py::test_empty_shelf"
EVERY = {SHELF, BOOK, EMPTY}

PYPROJECT = """\
[tool.livecov]
app = "bookshelf:create_app"

[tool.coverage.run]
branch = true
source = ["."]
omit = ["test_*.py"]
plugins = ["livecov.jinja"]
parallel = true  # as make test's patch = ["subprocess"] makes it
"""

TEST_BROWSE = """\
def test_shelf(livecov_client):
    assert "Reading as ann" in livecov_client.get("/?reader=ann").text


def test_book(livecov_client):
    assert "In print: 3 copies." in livecov_client.get("/book/1").text
"""

TEST_PAGES = """\
from bookshelf import create_app


def test_empty_shelf():
    assert "No books yet." in create_app().test_client().get("/?empty=1").text
"""

# A comment on top of _nav.html, long enough to hold the line numbers that coverage.py's C
# tracer records in a template when its generator resumes: Python line numbers of the
# compiled template, not template lines (docs/jinja.md, the repair step). pytest-cov's data
# is not repaired: it holds them, here on comment lines.
NAV_NOTES = range(2, 42)  # the comment's inner lines
NAV_HEADER = "{#\n" + "".join(f"  note {n}\n" for n in NAV_NOTES) + "#}\n"

# The two ways of measuring: ``python -m`` commands, after which the data is what a user has.
MEASURE = {
    "make-test": [
        ["coverage", "run", "-m", "pytest", "-p", "no:cacheprovider", "--livecov-test-contexts"],
        ["coverage", "combine", "-q"],
        ["livecov.jinja", ".coverage"],  # the repair step
        ["livecov", "record"],
    ],
    "pytest-cov": [  # records by itself (livecov's plugin), repairs nothing
        ["pytest", "-p", "no:cacheprovider", "--cov", "--cov-context=test", "--cov-report="],
    ],
}


def run(project: Path, command: list[str]) -> None:
    # The project is measured by its own settings, not by this suite's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    done = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module", params=sorted(MEASURE))
def measured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bookshelf project in git, its tests run and measured, the commit recorded."""
    project = tmp_path_factory.mktemp(f"bookshelf-{request.param}")
    shutil.copytree(APP, project, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "test_browse.py").write_text(TEST_BROWSE)
    (project / "test_pages.py").write_text(TEST_PAGES)
    (project / ".gitignore").write_text(".coverage*\n__pycache__/\n")
    nav = project / TEMPLATES / "_nav.html"
    nav.write_text(NAV_HEADER + nav.read_text())
    commit_all(project, "bookshelf")
    for command in MEASURE[request.param]:
        run(project, command)
    return project


@pytest.fixture
def bookshelf(measured: Path) -> Iterator[Path]:
    """The measured project; whatever a test changes is undone after it."""
    yield measured
    git(measured, "checkout", "-q", "--", ".")


def selected(bookshelf: Path) -> set[str]:
    selection = select(bookshelf / ".coverage", where=bookshelf)
    assert not selection.everything, selection.everything
    assert selection.changed, "nothing changed"
    return set(selection.node_ids())


def test_the_data_is_livecov_jinja_s_and_recorded(measured: Path) -> None:
    data = coverage.CoverageData(str(measured / ".coverage"))
    data.read()
    book = str(measured / TEMPLATES / "book.html")
    assert data.file_tracer(book) == PLUGIN_NAME
    contexts = {
        line: {c.partition("|")[0] for c in cs}
        for line, cs in data.contexts_by_lineno(book).items()
    }
    assert contexts[8] == {BOOK}  # In print: rendered by the live server, for test_book
    stored = read_record(measured / ".coverage")
    assert stored is not None
    assert f"{TEMPLATES}/book.html" in stored.files


CHANGES = {
    # A line that ran, changed in place: the tests that rendered that line.
    "loop body": ("books.html", "</a> {{ m.stars", "</a> — {{ m.stars", {SHELF}),
    "for-else": ("books.html", "No books yet.", "The shelf is empty.", {EMPTY}),
    "in print": ("book.html", "In print:", "Available:", {BOOK}),
    "nav reader": ("_nav.html", "Reading as", "Signed in as", {SHELF}),
    "nav join": ("_nav.html", ">Join<", ">Sign up<", {BOOK, EMPTY}),
    "macro body": ("macros.html", "*{% endfor %}", "&#9733;{% endfor %}", {SHELF}),
    "layout": ("layout.html", "<footer>Bookshelf", "<footer>The bookshelf", EVERY),
    # A line that never ran, in book.html's block main: test_book renders that block,
    # test_shelf and test_empty_shelf never do.
    "never rendered": ("book.html", "Out of print.", "No longer printed.", {BOOK}),
    # Added lines: the tests that rendered their block.
    "added in a block": ("book.html", "<h1>", "<p>New!</p>\n<h1>", {BOOK}),
    "added in a loop": ("books.html", "{% else %}", "  <li>more</li>\n{% else %}", {SHELF, EMPTY}),
    # A template that no longer parses: every test that rendered it, and only those.
    "does not parse": ("book.html", "{% endif %}", "{% endif", {BOOK}),
    "layout does not parse": (
        "layout.html",
        "{% block main %}{% endblock %}",
        "{% block main %}",
        EVERY,
    ),
}


@pytest.mark.parametrize(("template", "old", "new", "expected"), CHANGES.values(), ids=CHANGES)
def test_a_template_change_selects_the_tests_that_rendered_it(
    bookshelf: Path, template: str, old: str, new: str, expected: set[str]
) -> None:
    edit(bookshelf / TEMPLATES / template, old, new)
    assert selected(bookshelf) == expected


def test_a_comment_line_selects_by_its_template_whatever_the_data_holds(bookshelf: Path) -> None:
    # Changed in place (same indentation) into output: every render of _nav.html shows it.
    nav = bookshelf / TEMPLATES / "_nav.html"
    measured = nav.read_text()
    selections = {}
    for number in NAV_NOTES:
        nav.write_text(measured.replace(f"  note {number}\n", "  #}<b>news</b>{#\n"))
        selections[number] = selected(bookshelf)
    assert selections == {number: EVERY for number in NAV_NOTES}
