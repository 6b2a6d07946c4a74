"""Which template lines count, and that a render records exactly the lines it ran.

The corpus (tests/livecov/jinja_corpus) holds one template per construct; docs/jinja.md
states the rules these tests pin.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from livecov.jinja.mapping import build_map
from livecov.jinja.recorded import EXIT, decode
from livecov.jinja.reporter import JinjaFileReporter
from tests.livecov.jinja_support import CORPUS, Measure, copy_corpus, environment

# Per template: the lines that can run (text, {{ }}, tags) - every other line is a
# comment, a {% raw %} body, a closing or middle tag ({% else %}, {% endif %}), blank,
# or text outside the blocks of a template that extends another.
EXECUTABLE = {
    "base.html": {1, 2, 5, 6, 7, 9, 11, 12},
    "child.html": {1, 4, 7, 8, 9},
    "_item.html": {1},
    "macros.html": {1, 2, 5, 6, 7, 8, 9, 12, 13, 14},
    "loops.html": {1, 2, 3, 5, 7, 8, 9},
    "set_filters.html": {1, 2, 3, 5, 6, 7, 8},
    "whitespace.html": {1, 2, 3, 5, 7, 9, 12, 14},
    "escape_with.html": {1, 2, 4, 5},
    "raw_text.html": {10, 11, 13},
}


@pytest.mark.parametrize("name", sorted(EXECUTABLE))
def test_executable_lines_of_each_corpus_template(name: str) -> None:
    source = (CORPUS / name).read_text()
    template_map = build_map(environment(), source, name, name)
    assert template_map.statements == EXECUTABLE[name]


def test_the_map_fits_the_code_jinja_compiles() -> None:
    env = environment()
    for path in sorted(CORPUS.glob("*.html")):
        source = path.read_text()
        compiled = env.compile(source, path.name, str(path), raw=True)
        debug_info = compiled.rpartition("debug_info = ")[2].strip().strip("'")
        assert build_map(env, source, path.name, str(path)).debug_info == debug_info


def render_every_way(templates: Path) -> None:
    env = environment(templates)
    for user in ("bob", None):
        env.get_template("child.html").render(user=user, item="x")
    env.get_template("macros.html").render()
    for items in ([1, 2], []):
        env.get_template("loops.html").render(items=items, rows=[[1, 2], [], [3]])
    env.get_template("set_filters.html").render(names=["a", "b"])
    for flag in (True, False):
        env.get_template("whitespace.html").render(flag=flag, other=flag)
    env.get_template("escape_with.html").render(markup="<b>")
    env.get_template("raw_text.html").render()


@pytest.mark.parametrize("branch", [True, False], ids=["branch", "line"])
def test_rendering_every_way_runs_every_executable_line(tmp_path: Path, branch: bool) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates, branch=branch) as measure:
        render_every_way(templates)

    for name, lines in EXECUTABLE.items():
        assert lines <= (measure.lines(name) or set()), name
    report = measure.json()
    for name in EXECUTABLE:
        assert report[name]["missing_lines"] == [], name
        if branch:
            assert report[name]["missing_branches"] == [], name


@pytest.mark.parametrize("branch", [True, False], ids=["branch", "line"])
def test_a_render_records_exactly_the_lines_it_ran(tmp_path: Path, branch: bool) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates, branch=branch) as measure:
        env = environment(templates)
        env.get_template("child.html").render(user=None)
        env.get_template("loops.html").render(items=[], rows=[])
        env.get_template("whitespace.html").render(flag=True, other=False)

    report = measure.json()
    # No user: the {% else %} text ran, "Hello" did not; the title block ran from the child.
    assert report["base.html"]["executed_lines"] == [1, 2, 5, 6, 9, 11, 12]
    assert report["base.html"]["missing_lines"] == [7]
    assert report["child.html"]["executed_lines"] == [1, 4, 7, 8, 9]
    assert report["_item.html"]["executed_lines"] == [1]
    # No items: the loop's body never ran, its {% else %} did.
    assert report["loops.html"]["missing_lines"] == [3, 9]
    assert report["whitespace.html"]["missing_lines"] == [5, 14]
    for name in ("macros.html", "set_filters.html", "escape_with.html", "raw_text.html"):
        assert report[name]["executed_lines"] == [], name
        assert report[name]["missing_lines"] == sorted(EXECUTABLE[name]), name
    # A blank line inside a run of text, a comment, a closing tag: never run, never missed.
    assert 3 not in report["base.html"]["missing_lines"] + report["base.html"]["executed_lines"]


def test_if_elif_else_and_for_are_branches(tmp_path: Path) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates) as measure:
        env = environment(templates)
        env.get_template("child.html").render(user="bob")
        env.get_template("loops.html").render(items=[1], rows=[])
        env.get_template("whitespace.html").render(flag=False, other=False)

    report = measure.json()
    # {% if user %} (line 6): its body ran (7), its {% else %} (9) never did.
    assert report["base.html"]["executed_branches"] == [[6, 7]]
    assert report["base.html"]["missing_branches"] == [[6, 9]]
    # {% for %} (line 2): the body ran (3), the loop ended (7); its {% else %} (5) never ran.
    # The filtered loop (8): its body never ran (9), it ended at the template's end (exit).
    assert report["loops.html"]["executed_branches"] == [[2, 3], [2, 7], [8, -1]]
    assert report["loops.html"]["missing_branches"] == [[2, 5], [8, 9]]
    # {%- if flag -%} (2) went to its else (5); {% if flag and other %} (12) to the end.
    assert report["whitespace.html"]["executed_branches"] == [[2, 5], [12, -1]]
    assert report["whitespace.html"]["missing_branches"] == [[2, 3], [12, 14]]
    assert report["base.html"]["summary"]["num_partial_branches"] == 1


def test_an_if_in_a_loop_of_the_first_line_goes_back_to_line_1() -> None:
    # Its false way goes back to the {% for %} on line 1; the loop's body starts with the
    # blank output that ends on line 2.
    source = "{% for x in xs %}\n{% if x %}\n<p>a</p>\n{% endif %}{% endfor %}"
    branches = build_map(environment(), source, "t.html", "t.html").branches
    assert {line: {decode(way) for way in ways} for line, ways in branches.items()} == {
        1: {2, EXIT},
        2: {1, 3},
    }


def test_reports_describe_a_way_to_the_end_of_a_block_and_to_a_line(tmp_path: Path) -> None:
    reporter = JinjaFileReporter(str(tmp_path / "t.html"), plugin=None)  # type: ignore[arg-type]
    assert (
        reporter.missing_arc_description(8, EXIT) == "line 8 never went on to the end of its block"
    )
    assert reporter.missing_arc_description(8, 9) == "line 8 never went on to line 9"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_an_if_whose_way_out_pauses_first_is_a_line_not_a_branch(is_async: bool) -> None:
    # In a template that extends another, what follows a top-level {% if %} is the parent's
    # rendering: the template pauses (yield from / async for) before recording anything.
    source = '{% extends "base.html" %}\n{% if a %}\n{% set y = 1 %}\n{% endif %}\n'
    template_map = build_map(environment(enable_async=is_async), source, "c.html", "c.html")
    assert template_map.statements == {1, 2, 3}
    assert template_map.branches == {}


# An {% if %} whose template line number is also the Python line of a yield in the compiled
# module: coverage.py starts the arc after that yield resumes at the yield's line, so the
# two can be told apart only when the yield does not lead on to one of the if's ways.
PADDING = "text\n"
ELSEWHERE = PADDING * 8 + "{% if a %}\nyes\n{% else %}\nno\n{% endif %}\nend\n"  # if: line 9
CONFUSED = PADDING * 18 + "{% if a %}{{ a }}{% endif %}\n{% if b %}\nB\n{% endif %}\n"  # if: 20


def test_an_if_on_a_yields_line_number_is_a_branch_unless_that_yield_leads_to_its_way(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "elsewhere.html").write_text(ELSEWHERE)
    (templates / "confused.html").write_text(CONFUSED)
    with Measure(templates) as measure:
        env = environment(templates)
        env.get_template("elsewhere.html").render(a=True)
        env.get_template("confused.html").render(a=True, b=True)

    report = measure.json()
    assert report["elsewhere.html"]["executed_branches"] == [[9, 10]]
    assert report["elsewhere.html"]["missing_branches"] == [[9, 12]]
    # Line 20's ways cannot be told from the resumed yield's: a line, not a branch (and
    # line 19's if, closed on its own line, is none either).
    assert report["confused.html"]["executed_lines"][-2:] == [20, 21]
    assert report["confused.html"]["summary"]["num_branches"] == 0


def test_branches_far_down_a_long_template_end_where_they_do(tmp_path: Path) -> None:
    # Blank output is recorded as a marker holding its line number: past line 128 too.
    templates = tmp_path / "templates"
    templates.mkdir()
    loops = (CORPUS / "loops.html").read_text()
    (templates / "long.html").write_text(PADDING * 130 + loops)
    with Measure(templates) as measure:
        environment(templates).get_template("long.html").render(items=[1], rows=[])

    report = measure.json()["long.html"]
    # As loops.html's own (test_if_elif_else_and_for_are_branches), 130 lines further down.
    assert report["executed_branches"] == [[132, 133], [132, 137], [138, -1]]
    assert report["missing_branches"] == [[132, 135], [138, 139]]


def test_a_block_its_parent_never_renders_never_runs(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "plain.html").write_text("<main>{% block content %}{% endblock %}</main>\n")
    (templates / "page.html").write_text(
        '{% extends "plain.html" %}\n'
        "{% block title %}Never shown{% endblock %}\n"
        "{% block content %}Shown{% endblock %}\n"
    )
    with Measure(templates) as measure:
        environment(templates).get_template("page.html").render()

    report = measure.json()["page.html"]
    assert report["executed_lines"] == [1, 3]
    assert report["missing_lines"] == [2]  # plain.html has no title block to render it
