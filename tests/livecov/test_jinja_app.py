"""A Flask app written for these tests (not flaskr), its Jinja templates rendered by a unit
test and by a client of ``livecov run``'s live server: one report (terminal, JSON, HTML)
holds each template with exactly the lines that rendered and the contexts that did it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import coverage
import pytest

from livecov.cli import main
from livecov.contexts import format_ranges
from livecov.jinja.repair import repair_data
from tests.livecov.helpers import context_client, copy_project, json_report

APP = Path(__file__).parent / "jinja_app"
CLIENT = context_client([("e2e-list", "/?reader=ann"), ("e2e-book", "/book/1")])
TEMPLATES = "bookshelf/templates/"
UNIT = "tests/test_pages.py::test_empty_shelf|run"  # as pytest-cov names a unit test
# Per template: (lines that ran, lines that never did, branches never taken).
EXPECTED = {
    "layout.html": ([1, 2, 3, 4, 5, 6, 7], [], []),
    "_nav.html": ([1, 2, 3, 5, 7], [], []),
    "books.html": ([1, 2, 3, 5, 6, 7, 9, 11], [], []),
    "book.html": ([1, 2, 4, 5, 8], [6], [[5, 6]]),  # never out of print
    "macros.html": ([1, 2, 5], [6], []),  # badge() never called
}


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_project(APP, tmp_path, monkeypatch, "livecov.jinja", CLIENT)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.partition(".")[0] == "bookshelf"]:
        monkeypatch.delitem(sys.modules, name)  # this test's copy is imported, not the last
    return tmp_path


def run_unit_test() -> None:
    """What a unit test does: render a page with Flask's test client, measured."""
    cov = coverage.Coverage()
    cov.start()
    try:
        cov.switch_context(UNIT)
        from bookshelf import create_app

        page = create_app().test_client().get("/?empty=1").text
        assert "No books yet." in page
        assert "Join" in page
    finally:
        cov.stop()
        cov.save()


def test_templates_in_terminal_json_and_html_reports(shelf: Path, capfd) -> None:
    run_unit_test()
    status = main(
        ["run", "--json", "report.json", "--html", "htmlcov", "--app", "bookshelf:create_app",
         "--", sys.executable, "client.py"]
    )  # fmt: skip
    out = capfd.readouterr().out
    assert status == 0, out
    assert "e2e-list 200" in out

    files = json_report(Path("report.json"))["files"]
    terminal = {line.split()[0]: line for line in out.splitlines() if TEMPLATES in line}
    for name, (ran, missed, branches) in EXPECTED.items():
        report = files[TEMPLATES + name]
        assert report["executed_lines"] == ran, name
        assert report["missing_lines"] == missed, name
        assert report["missing_branches"] == branches, name
        row = terminal[TEMPLATES + name].split()
        assert row[-1] == ("100%" if not missed else ",".join(map(str, missed))), row
        assert next(Path("htmlcov").glob(f"*_{name.replace('.', '_')}.html"))

    contexts = {name: files[TEMPLATES + name]["contexts"] for name in EXPECTED}
    assert contexts["books.html"]["9"] == [UNIT]  # No books yet.
    assert contexts["books.html"]["7"] == ["e2e-list"]  # each book
    assert contexts["_nav.html"]["3"] == ["e2e-list"]  # Reading as ann
    assert sorted(contexts["_nav.html"]["5"]) == ["e2e-book", UNIT]  # Join
    assert contexts["book.html"]["8"] == ["e2e-book"]  # In print
    assert sorted(contexts["layout.html"]["1"]) == ["e2e-book", "e2e-list", UNIT]

    # The HTML page of a template lists, per line, the tests that rendered it.
    book_page = next(Path("htmlcov").glob("*book_html.html")).read_text()
    assert "e2e-book" in book_page
    assert "test_empty_shelf" not in book_page
    books_page = next(Path("htmlcov").glob("*books_html.html")).read_text()
    assert "test_empty_shelf" in books_page
    assert "e2e-list" in books_page

    # livecov contexts: what only the browser-like client reached, what only the unit test.
    assert main(["contexts", "--include", TEMPLATES + "*"]) == 0
    layers = capfd.readouterr().out
    only_e2e, only_unit = layers.split("Lines only unit tests run")
    assert f"{TEMPLATES}books.html: 7" in only_e2e
    assert f"{TEMPLATES}_nav.html: 3" in only_e2e
    assert f"{TEMPLATES}book.html: 1-2, 4-5, 8" in only_e2e
    assert only_unit.splitlines()[1:2] == [f"  {TEMPLATES}books.html: 9"]


def test_contexts_of_data_not_yet_repaired_name_only_template_lines(shelf: Path, capfd) -> None:
    # The data as pytest-cov or `coverage combine` leaves it: a resumed template has
    # recorded Python line numbers, which only repair_data() turns into template lines.
    run_unit_test()
    before = Path(".coverage").read_bytes()
    shutil.copyfile(".coverage", "repaired")
    assert repair_data("repaired") > 0  # there was something to repair
    repaired = coverage.CoverageData("repaired")
    repaired.read()

    # Unit data alone: no context of the server's, so --e2e names none (all are unit).
    assert main(["contexts", "--include", TEMPLATES + "*", "--e2e", "live-server"]) == 0
    out = capfd.readouterr().out

    assert Path(".coverage").read_bytes() == before  # the user's data is left as it was
    only_unit = dict(
        line.strip().split(": ") for line in out.split("Lines only unit tests run")[1].splitlines()
        if TEMPLATES in line
    )  # fmt: skip
    expected = {
        TEMPLATES + name: format_ranges(repaired.lines(str(shelf / TEMPLATES / name)) or [])
        for name in EXPECTED
    }
    assert only_unit == {name: lines for name, lines in expected.items() if lines}
