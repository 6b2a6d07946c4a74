"""Template data right with no extra step: after pytest-cov, ``coverage run -m pytest`` and
``coverage combine`` of shards, coverage.py's own reports give each template line exactly
the tests that rendered it (the data is repaired where livecov takes part); a report of data
nothing repaired says so loudly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from livecov.jinja.repair import repair_data, repair_running_data
from tests.livecov.jinja_support import Measure, copy_corpus, environment

PYTEST_TIMEOUT = 180

APP = """\
import flask

app = flask.Flask(__name__)


@app.route("/<name>")
def page(name):
    items = ["a", "b"] if name == "full" else []
    return flask.render_template("page.html", name=name, items=items)
"""

PAGE = """\
<h1>{{ name }}</h1>
{% if items %}
  <ul>
  {% for item in items %}
    <li>{{ item }}</li>
  {% endfor %}
  </ul>
{% else %}
  <p>Nothing here.</p>
{% endif %}
<footer>end</footer>
"""
FULL_ONLY = {3, 4, 5, 7}  # the {% if %} body
EMPTY_ONLY = {9}  # the {% else %} body
EVERY_PAGE = {1, 2, 11}

PYPROJECT = """\
[tool.livecov]
app = "app:app"

[tool.coverage.run]
branch = true
source = ["."]
omit = ["test_*.py"]
plugins = ["livecov.jinja"]
"""

TESTS_UNIT = """\
from app import app


def test_full():
    assert b"<li>a</li>" in app.test_client().get("/full").data


def test_empty():
    assert b"Nothing" in app.test_client().get("/x").data


def test_empty_again():
    assert b"Nothing" in app.test_client().get("/y").data
"""

TESTS_LIVE = """\
def test_full_live(livecov_client):
    assert b"<li>a</li>" in livecov_client.get("/full").content
"""


@pytest.fixture
def page_project(pytester: pytest.Pytester) -> Path:
    """pytester's folder holding an app that renders templates/page.html, and its unit tests."""
    (pytester.path / "templates").mkdir()
    (pytester.path / "templates" / "page.html").write_text(PAGE)
    pytester.makepyfile(app=APP, test_unit=TESTS_UNIT)
    pytester.makepyprojecttoml(PYPROJECT)
    return pytester.path


def coverage_command(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "coverage", *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def template_contexts(project: Path) -> dict[int, set[str]]:
    """The template's lines and their tests, as ``coverage json --show-contexts`` gives them;
    coverage.py's report says nothing of a repair."""
    done = coverage_command(project, "json", "--show-contexts", "-o", "report.json")
    assert "livecov.jinja" not in done.stderr
    report = json.loads((project / "report.json").read_text())["files"]["templates/page.html"]
    assert report["missing_lines"] == []
    return {int(line): set(tests) for line, tests in report["contexts"].items()}


def expected(full: set[str], empty: set[str]) -> dict[int, set[str]]:
    lines = dict.fromkeys(FULL_ONLY, full) | dict.fromkeys(EMPTY_ONLY, empty)
    return lines | dict.fromkeys(EVERY_PAGE, full | empty)


# as pytest-cov's --cov-context=test and livecov's --livecov-test-contexts name them
UNIT_FULL = "test_unit.py::test_full|run"
UNIT_EMPTY = {"test_unit.py::test_empty|run", "test_unit.py::test_empty_again|run"}


def test_pytest_cov_with_a_live_server(pytester: pytest.Pytester, page_project: Path) -> None:
    pytester.makepyfile(test_live=TESTS_LIVE)
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--cov", "--cov-context=test", "--cov-report=", timeout=PYTEST_TIMEOUT
    )
    result.assert_outcomes(passed=4)

    full = {UNIT_FULL, "test_live.py::test_full_live"}  # the server's, with no phase
    assert template_contexts(page_project) == expected(full, UNIT_EMPTY)


def test_coverage_run_of_pytest(pytester: pytest.Pytester, page_project: Path) -> None:
    result = pytester.run(
        sys.executable, "-m", "coverage", "run", "-m", "pytest", "--livecov-test-contexts",
        "-p", "no:randomly", "-p", "no:cov",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str() + result.stderr.str()

    assert template_contexts(page_project) == expected({UNIT_FULL}, UNIT_EMPTY)


def test_coverage_combine_of_shards(pytester: pytest.Pytester, page_project: Path) -> None:
    for shard, test in (("1", "test_full"), ("2", "test_empty or test_empty_again")):
        result = pytester.runpytest_subprocess(
            "-p", "no:randomly", "--cov", "--cov-context=test", "--cov-report=", "-k", test,
            timeout=PYTEST_TIMEOUT,
        )  # fmt: skip
        result.assert_outcomes(passed=len(test.split(" or ")))
        (page_project / ".coverage").rename(page_project / f"shard{shard}.coverage")

    coverage_command(page_project, "combine", "shard1.coverage", "shard2.coverage")

    assert template_contexts(page_project) == expected({UNIT_FULL}, UNIT_EMPTY)


def test_a_report_of_unrepaired_data_says_so(pytester: pytest.Pytester, page_project: Path) -> None:
    # Without livecov's pytest plugin, nothing repairs pytest-cov's data.
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:livecov", "--cov", "--cov-context=test", "--cov-report=",
        timeout=PYTEST_TIMEOUT,
    )  # fmt: skip
    result.assert_outcomes(passed=3)

    done = coverage_command(page_project, "report")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("livecov.jinja:")]
    assert len(warnings) == 1, done.stderr
    assert "page.html: the data holds Python line numbers" in warnings[0]
    assert "run `python -m livecov.jinja DATA_FILE`" in warnings[0]

    subprocess.run([sys.executable, "-m", "livecov.jinja"], cwd=page_project, check=True)  # the fix
    done = coverage_command(page_project, "report")
    assert "livecov.jinja" not in done.stderr


def test_the_running_measurement_is_repaired_in_place(tmp_path: Path) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates, repair=False) as measure:
        environment(templates).get_template("child.html").render(user="bob")
        assert repair_running_data(measure.cov) > 0
        assert repair_running_data(measure.cov) == 0  # what it wrote is right already
    assert all(start in ends(measure) or start < 0 for start, _end in arcs(measure))


def arcs(measure: Measure) -> list[tuple[int, int]]:
    data = coverage.CoverageData(str(measure.data_file))
    data.read()
    return data.arcs(str(measure.folder / "base.html")) or []


def ends(measure: Measure) -> set[int]:
    return {end for _start, end in arcs(measure)}


@pytest.mark.parametrize(
    "config", ["[run]\nbranch = true\n", "[run]\nbranch = false\nplugins = livecov.jinja\n"]
)
def test_nothing_to_repair_without_branches_or_the_plugin(tmp_path: Path, config: str) -> None:
    rcfile = tmp_path / "rc"
    rcfile.write_text(config)
    cov = coverage.Coverage(config_file=str(rcfile), data_file=str(tmp_path / "data"))
    assert repair_running_data(None) == 0
    assert repair_running_data(cov) == 0
    assert not (tmp_path / "data").exists()  # nothing written either


def test_the_warning_comes_once_per_template_and_only_before_the_repair(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates, repair=False) as measure:
        environment(templates).get_template("child.html").render(user="bob")
    capfd.readouterr()

    measure.json()
    warned = [line.split(": ")[1] for line in capfd.readouterr().err.splitlines()]
    assert str(templates / "base.html") in warned
    assert len(warned) == len(set(warned))  # once per template, though asked twice

    repair_data(str(measure.data_file))
    measure.json()
    assert "livecov.jinja" not in capfd.readouterr().err


def test_pytest_cov_under_xdist(pytester: pytest.Pytester, page_project: Path) -> None:
    # Each worker repairs its own measurement before it hands the data to the controller.
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-n", "2", "--cov", "--cov-context=test", "--cov-report=",
        timeout=PYTEST_TIMEOUT,
    )  # fmt: skip
    result.assert_outcomes(passed=3)

    assert template_contexts(page_project) == expected({UNIT_FULL}, UNIT_EMPTY)
