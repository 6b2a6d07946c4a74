"""mutation/templates.py: the template mutation operators, and running their mutants."""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

import jinja2

from tests.tools.scripts import load_script

templates = load_script("mutation/templates.py", "mutation_templates")
runner = load_script("mutation/run.py", "mutation_run_for_templates")

PAGE = """\
{% extends "base.html" %}
{% block content %}
{% for post in posts %}
  <p>by {{ post.author }} on {{ post.date | default("today") }}</p>
  {% if post.mine %}<a>Edit</a>{% elif post.draft %}draft{% else %}
    <span>{{ 'yours' if post.mine else 'theirs' }}</span>
  {% endif %}
{% else %}
  <p>None.</p>
{% endfor %}
{% raw %}{% if not_a_tag %}{% endraw %}
{{ items | batch(3) }}
{% endblock %}
"""


def changes(operator: str) -> list[tuple[int, list[str]]]:
    found = []
    for mutant in templates.mutants("page.html", PAGE):
        if mutant.operator == operator:
            diff = mutant.diff(PAGE).splitlines()
            lines = [d for d in diff if d[:1] in "+-" and d[:3] not in ("---", "+++")]
            found.append((mutant.line, lines))
    return found


def test_every_mutant_is_still_a_template_with_the_same_lines() -> None:
    environment = jinja2.Environment()  # noqa: S701 - only parses
    mutants = templates.mutants("page.html", PAGE)
    assert len(mutants) == 11
    for mutant in mutants:
        environment.parse(mutant.source)
        assert mutant.source.count("\n") == PAGE.count("\n")


def test_swap_condition() -> None:
    assert changes("swap-condition") == [
        (5, ["-  {% if post.mine %}<a>Edit</a>{% elif post.draft %}draft{% else %}",
             "+  {% if not (post.mine) %}<a>Edit</a>{% elif post.draft %}draft{% else %}"]),
        (5, ["-  {% if post.mine %}<a>Edit</a>{% elif post.draft %}draft{% else %}",
             "+  {% if post.mine %}<a>Edit</a>{% elif not (post.draft) %}draft{% else %}"]),
        (6, ["-    <span>{{ 'yours' if post.mine else 'theirs' }}</span>",
             "+    <span>{{ 'yours' if not (post.mine) else 'theirs' }}</span>"]),
    ]  # fmt: skip


def test_drop_branch_empties_each_body_and_keeps_the_raw_block() -> None:
    dropped = changes("drop-branch")
    assert [line for line, _ in dropped] == [3, 5, 5, 5, 8]
    assert dropped[1][1][1] == "+  {% if post.mine %}{% elif post.draft %}draft{% else %}"
    assert dropped[4][1] == ["-  <p>None.</p>", "+"]


def test_swap_variables_on_one_line() -> None:
    assert changes("swap-variables") == [
        (4, ['-  <p>by {{ post.author }} on {{ post.date | default("today") }}</p>',
             '+  <p>by {{ post.date | default("today") }} on {{ post.author }}</p>']),
    ]  # fmt: skip


def test_filter_argument() -> None:
    assert [lines[1] for _, lines in changes("filter-argument")] == [
        '+  <p>by {{ post.author }} on {{ post.date | default("today_x") }}</p>',
        "+{{ items | batch(4) }}",
    ]


def test_run_tests_outcomes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    python = [sys.executable, "-c"]
    assert templates.run_tests([*python, "pass"], tmp_path, 30, log) == "survived"
    assert templates.run_tests([*python, "raise SystemExit(1)"], tmp_path, 30, log) == "killed"
    slow = [*python, "import time; time.sleep(60)"]
    assert templates.run_tests(slow, tmp_path, 0.5, log) == "timeout"


def test_a_session_restores_each_file_and_reports_like_cosmic_ray(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    (copy / "templates").mkdir(parents=True)
    (copy / "templates" / "page.html").write_text(PAGE)
    (tmp_path / "logs").mkdir()
    # The "tests": fail when a condition is negated, pass otherwise.
    check = "import sys; sys.exit('not (' in open('templates/page.html').read())"
    session = runner.Session(
        name="t", config=Path("t.toml"), package="flaskr-templates",
        modules=["templates/**/*.html"], test_command="", timeout=60, kind="templates",
    )  # fmt: skip
    templates.run_session(
        session, copy, [sys.executable, "-c", check], tmp_path / "logs", lambda: False
    )
    assert (copy / "templates" / "page.html").read_text() == PAGE
    outcomes = {}
    for r in session.results:
        operator = r["item"]["mutations"][0]["operator_name"]
        outcomes.setdefault(operator, set()).add(runner.outcome(r["result"]))
    assert outcomes["templates/swap-condition"] == {"killed"}
    assert outcomes["templates/drop-branch"] == {"survived"}
    out = io.StringIO()
    assert not runner.report([session], {"flaskr-templates": 95.0}, out=out)
    assert "flaskr-templates: 3/11 killed" in out.getvalue()
    assert "templates/page.html:4 templates/swap-variables" in out.getvalue()

    # --retest with better "tests" (any change fails them): only the 8 survivors run again.
    digest = hashlib.sha256(PAGE.encode()).hexdigest()
    strict = (
        "import hashlib, sys; data = open('templates/page.html', 'rb').read();"
        f" sys.exit(hashlib.sha256(data).hexdigest() != {digest!r})"
    )
    session.previous, session.results = session.results, []
    templates.run_session(
        session, copy, [sys.executable, "-c", strict], tmp_path / "logs", lambda: False
    )
    assert [runner.outcome(r["result"]) for r in session.results] == ["killed"] * 11
    assert session.error is None


def test_a_failing_baseline_stops_the_session(tmp_path: Path) -> None:
    session = runner.Session(
        name="t", config=Path("t.toml"), package="flaskr-templates", modules=["*.html"],
        test_command="", timeout=60, kind="templates",
    )  # fmt: skip
    templates.run_session(
        session, tmp_path, [sys.executable, "-c", "raise SystemExit(1)"], tmp_path, lambda: False
    )
    assert session.error == "baseline (tests on unmutated templates) failed; see the log"
    assert session.results == []
