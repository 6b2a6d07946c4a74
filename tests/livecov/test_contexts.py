"""``livecov contexts``: what only end-to-end tests protect, and what only unit tests do."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from pathlib import Path

import coverage
import pytest

from livecov.cli import main
from livecov.contexts import (
    _templates_repaired,
    contexts_report,
    e2e_rule,
    format_ranges,
    server_contexts,
    split_by_layer,
)
from livecov.jinja import PLUGIN_NAME
from livecov.measure import SERVER_CONTEXT_MARK, prepare_server_file
from tests.livecov.helpers import measure_like_unit_tests


def make_data(
    path: Path, lines_by_context: dict[str, dict[str, list[int]]], server: Iterable[str] = ()
) -> None:
    """Data as livecov leaves it: the contexts named in ``server`` recorded by the live
    server, in a data file of its own that livecov prepares and combines in."""
    server = set(server)
    served = {c: files for c, files in lines_by_context.items() if c in server}
    unit = {c: files for c, files in lines_by_context.items() if c not in server}
    data = write_data(path, unit)
    if served:
        server_file = path.with_name(path.name + ".server")
        write_data(server_file, served)
        prepare_server_file(server_file)
        server_data = coverage.CoverageData(str(server_file))
        server_data.read()
        data.update(server_data)


def write_data(path: Path, lines_by_context: dict[str, dict[str, list[int]]]):
    data = coverage.CoverageData(str(path))
    for context, files in lines_by_context.items():
        data.set_context(context)
        data.add_lines({name: dict.fromkeys(lines) for name, lines in files.items()})
    data.write()
    return data


def read(path: Path) -> coverage.CoverageData:
    data = coverage.CoverageData(str(path))
    data.read()
    return data


def test_a_context_is_end_to_end_when_the_server_recorded_it_whatever_its_name(
    tmp_path: Path,
) -> None:
    views = "/app/views.py"
    make_data(
        tmp_path / "d",
        {
            "unit": {views: [1]},  # coverage run --context=unit
            "tests.test_views.ViewTests.test_index": {views: [2]},  # Django's test_function
            "tests/test_x.py::test_y|run": {views: [3]},  # pytest-cov
            "live-server": {views: [4]},
            "tests/e2e/test_x.py::test_y[chromium]": {views: [5]},
            "c": {views: [6]},  # a client's own name
        },
        server={"live-server", "tests/e2e/test_x.py::test_y[chromium]", "c"},
    )
    data = read(tmp_path / "d")
    assert server_contexts(data) == {"live-server", "tests/e2e/test_x.py::test_y[chromium]", "c"}
    split = split_by_layer(data, e2e_rule(data))
    assert split.only_unit == {views: [1, 2, 3]}
    assert split.only_e2e == {views: [4, 5, 6]}
    # The markers hold no lines: no report shows them, no test is named after them.
    assert set(data.contexts_by_lineno(views)) == {1, 2, 3, 4, 5, 6}
    assert all("::" not in c for c in data.measured_contexts() - {"", *split_names(data)})


def split_names(data: coverage.CoverageData) -> set[str]:
    return {c for c in data.measured_contexts() if not c.startswith(SERVER_CONTEXT_MARK)}


def test_the_server_marks_survive_coverage_combine(tmp_path: Path) -> None:
    views = str(tmp_path / "views.py")
    write_data(tmp_path / ".coverage.unit", {"unit": {views: [1, 2]}})
    write_data(tmp_path / ".coverage.server", {"live-server": {views: [2, 3]}})
    prepare_server_file(tmp_path / ".coverage.server")
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), config_file=False)
    cov.combine([str(tmp_path / ".coverage.unit"), str(tmp_path / ".coverage.server")])
    cov.save()

    assert server_contexts(read(tmp_path / ".coverage")) == {"live-server"}


def test_patterns_replace_the_rule(tmp_path: Path) -> None:
    make_data(tmp_path / "d", {"browser-1": {"/v.py": [1]}, "live-server": {"/v.py": [2]}})
    data = read(tmp_path / "d")
    is_e2e = e2e_rule(data, ["browser-*"])
    assert is_e2e("browser-1")
    assert not is_e2e("live-server")


def test_splits_lines_by_layer(tmp_path: Path) -> None:
    path = tmp_path / ".coverage"
    make_data(
        path,
        {
            "t/unit.py::a|run": {"/app/views.py": [1, 2, 3], "/app/db.py": [1]},
            "t/e2e.py::b[chromium]": {"/app/views.py": [3, 4, 5, 7]},
        },
        server={"t/e2e.py::b[chromium]"},
    )
    data = read(path)
    split = split_by_layer(data, e2e_rule(data))
    assert split.only_unit == {"/app/views.py": [1, 2], "/app/db.py": [1]}
    assert split.only_e2e == {"/app/views.py": [4, 5, 7]}
    assert split.both == 1


VIEWS = """def index():  # line 1
    # a comment
    return "index"
"""


def test_only_statements_count(tmp_path: Path, monkeypatch, capsys) -> None:
    # An async app's data can hold numbers no statement has (lines 637-2755 of a 38-line
    # module); coverage report ignores them, and so does livecov contexts.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "views.py").write_text(VIEWS)
    views = str(tmp_path / "views.py")
    make_data(
        tmp_path / "d",
        {"unit": {views: [1, 2, 637]}, "live-server": {views: [1, 3, 2755]}},
        server={"live-server"},
    )
    assert main(["contexts", "--data-file", "d"]) == 0
    out = capsys.readouterr().out
    assert "  views.py: 3\n" in out
    assert "1 lines run by both, 1 only end-to-end, 0 only unit." in out


def test_a_file_coverage_cannot_read_is_left_out_in_one_line(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "views.py").write_text(VIEWS)
    make_data(
        tmp_path / "d",
        {"live-server": {str(tmp_path / "views.py"): [3], str(tmp_path / "gone.py"): [1]}},
        server={"live-server"},
    )
    assert main(["contexts", "--data-file", "d"]) == 0
    captured = capsys.readouterr()
    assert "  views.py: 3\n" in captured.out
    assert "gone.py" not in captured.out
    [line] = captured.err.splitlines()
    assert line.startswith("livecov contexts: gone.py left out: No source for code")


def test_data_with_no_server_context_is_refused_in_one_line(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "views.py").write_text(VIEWS)
    views = str(tmp_path / "views.py")
    make_data(tmp_path / "d", {"unit": {views: [1]}, "live-server": {views: [3]}})
    assert main(["contexts", "--data-file", "d"]) == 4
    [line] = capsys.readouterr().err.splitlines()
    assert "holds no lines livecov's live server recorded" in line
    assert "--e2e GLOB" in line
    assert main(["contexts", "--data-file", "d", "--e2e", "live-*"]) == 0  # the way out
    assert "views.py: 3" in capsys.readouterr().out


def test_data_whose_server_ran_without_contexts_is_refused_in_one_line(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    # livecov run --no-contexts: the server's lines are under "", as the test process's
    # lines outside any test are; no rule can tell them apart, so livecov says so.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "views.py").write_text(VIEWS)
    views = str(tmp_path / "views.py")
    make_data(tmp_path / "d", {"": {views: [1, 3]}}, server={""})
    assert main(["contexts", "--data-file", "d"]) == 4
    [line] = capsys.readouterr().err.splitlines()
    assert "without contexts (--no-contexts)" in line
    assert "--e2e GLOB" in line


def test_format_ranges() -> None:
    assert format_ranges([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert format_ranges([]) == ""


def module(path: Path, lines: int) -> str:
    """A module of ``lines`` statements, one a line; its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"x{n} = {n}\n" for n in range(1, lines + 1)))
    return str(path)


def test_cli_report(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    views = module(tmp_path / "views.py", 9)
    make_data(
        tmp_path / "data",
        {"t/unit.py::a|run": {views: [1, 2]}, "live-server": {views: [2, 8, 9]}},
        server={"live-server"},
    )
    assert main(["contexts", "--data-file", "data"]) == 0
    out = capsys.readouterr().out
    assert "Lines only end-to-end tests run (no unit test does):\n  views.py: 8-9\n" in out
    assert "Lines only unit tests run (no end-to-end test does):\n  views.py: 1\n" in out
    assert "1 lines run by both, 2 only end-to-end, 1 only unit." in out


def test_cli_report_without_data_or_contexts(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["contexts", "--data-file", "missing"]) == 4  # nothing to read: usage
    assert "no coverage data in" in capsys.readouterr().err
    make_data(tmp_path / "plain", {"": {str(tmp_path / "v.py"): [1]}})
    assert main(["contexts", "--data-file", "plain"]) == 4
    assert "has no contexts" in capsys.readouterr().err


def test_include_limits_the_files(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    views, other = module(tmp_path / "app" / "views.py", 1), module(tmp_path / "lib" / "x.py", 5)
    make_data(tmp_path / "d", {"live-server": {views: [1], other: [5]}}, server={"live-server"})
    assert main(["contexts", "--data-file", "d", "--include", "app/*"]) == 0
    out = capsys.readouterr().out
    assert "app/views.py: 1" in out
    assert "lib/x.py" not in out


def test_none_sections_print_none(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    make_data(tmp_path / "d", {"live-server": {module(tmp_path / "v.py", 1): [1]}})
    assert main(["contexts", "--data-file", "d", "--e2e", "live-*"]) == 0
    assert "(none)" in capsys.readouterr().out


def test_template_data_is_read_repaired_and_the_users_file_left_as_it_is(tmp_path: Path) -> None:
    # As pytest-cov leaves a template resumed after a yield: an arc from the Python line
    # number of the yield (40), which a report would show as a template line. Only the
    # template in the data: a Python file beside it must not be what makes it repaired.
    template = "/app/templates/page.html"
    data = coverage.CoverageData(str(tmp_path / ".coverage"))
    data.set_context("t.py::test_page|run")
    data.add_arcs({template: {(-1, 1), (1, 2), (40, 3), (3, -1)}})
    data.add_file_tracers({template: PLUGIN_NAME})
    data.write()
    before = (tmp_path / ".coverage").read_bytes()

    with _templates_repaired(read(tmp_path / ".coverage")) as repaired:
        assert sorted(repaired.lines(template) or []) == [1, 2, 3]
    assert (tmp_path / ".coverage").read_bytes() == before


LATE_APP = "# padding\n" * 300 + (
    "import aaa\n"  # line 301: a second measured file, sorting first
    "\n"
    "def app(environ, start_response):\n"  # 303
    '    start_response("200 OK", [("Content-Type", "text/plain")])\n'  # 304
    '    return [b"late"]\n'  # 305
)


CLIENT = (
    "import os, urllib.request as u; "
    "u.urlopen(u.Request(os.environ['LIVE_SERVER_URL'] + '/', headers={'Livecov-Context': 'c'}))"
)


def test_contexts_after_a_real_run_with_its_own_data_file(project: Path, capfd) -> None:
    # A real server run, then `livecov contexts` on what it wrote. Kills, in contexts.py:
    # `if not files` -> `if not not files` ("(none)" under a section that has files);
    # `open_coverage(rcfile or True)` -> `or False` (the .coveragerc names the data file);
    # `continue` -> `break` in split_by_layer (--include skips aaa.py, then must go on).
    (project / "late.py").write_text(LATE_APP)
    (project / "aaa.py").write_text("Y = 2\n")
    rc = project / ".coveragerc"
    rc.write_text(rc.read_text().replace("[run]\n", "[run]\ndata_file = .late-data\n"))
    assert main(["run", "--no-html", "--app", "late:app", "--", sys.executable, "-c", CLIENT]) == 0
    assert (project / ".late-data").exists()
    capfd.readouterr()

    assert main(["contexts"]) == 0
    out = capfd.readouterr().out
    e2e, unit = out.split("Lines only unit tests run (no end-to-end test does):\n")
    assert e2e.endswith("\n  late.py: 301, 303-305\n")
    assert "(none)" not in e2e
    assert unit.startswith("  (none)\n")  # no unit data
    assert "  aaa.py: 1\n" in e2e

    assert main(["contexts", "--include", "late.py"]) == 0
    out = capfd.readouterr().out
    assert "  late.py: 301, 303-305\n" in out
    assert "aaa.py" not in out

    # Kills `out or sys.stdout` -> `out and sys.stdout`: a caller's stream gets the report.
    buffer = io.StringIO()
    assert contexts_report(out=buffer) == 0
    assert "  late.py: 301, 303-305\n" in buffer.getvalue()
    assert capfd.readouterr().out == ""


def test_contexts_with_unlabelled_unit_data_and_server_contexts(project: Path, capfd) -> None:
    # Kills `contexts <= {""}` -> `contexts >= {""}` in contexts_report: unit data measured
    # without contexts ("") plus the server's named contexts is a valid report.
    measure_like_unit_tests(project, "import branchy\n")
    client = CLIENT.replace("'/'", "'/hello'")
    assert (
        main(["run", "--no-html", "--app", "branchy:app", "--", sys.executable, "-c", client]) == 0
    )
    capfd.readouterr()
    assert main(["contexts"]) == 0
    out = capfd.readouterr().out
    assert "Lines only end-to-end tests run" in out
    assert "branchy.py:" in out


APP = """\
import flask

app = flask.Flask(__name__)


@app.route("/unit")
def unit_only():
    return "unit"


@app.route("/e2e")
def e2e_only():
    return "e2e"
"""
UNIT_ONLY_LINE, E2E_ONLY_LINE = 8, 13

TEST_UNIT = """\
from app import app


def test_unit():
    assert app.test_client().get("/unit").data == b"unit"
"""

TEST_LIVE = """\
def test_live(livecov_client):
    assert livecov_client.get("/e2e").content == b"e2e"
"""


@pytest.mark.parametrize(
    ("source", "coverage_args", "pytest_args"),
    [
        # coverage run --context=unit: the test process's lines are all under "unit",
        # which has no pytest-cov phase; the server's come in through the pytest plugin.
        ('["."]', ["--context=unit"], []),
        # livecov itself measured too (as in livecov's own repository): the server runs
        # livecov's modules before it serves. Those lines must not put the server's mark on
        # "", where the test process records the app's import: its lines would then all
        # count as end-to-end only (app.py's import lines, and the unit-only line).
        ('[".", "livecov"]', [], ["--livecov-test-contexts"]),
    ],
    ids=["unit-context", "livecov-measured-too"],
)
def test_layers_are_told_apart_by_where_lines_were_recorded(
    pytester: pytest.Pytester, source: str, coverage_args: list[str], pytest_args: list[str]
) -> None:
    pytester.makepyfile(app=APP, test_unit=TEST_UNIT, test_live=TEST_LIVE)
    pytester.makepyprojecttoml(
        '[tool.livecov]\napp = "app:app"\n\n'
        f'[tool.coverage.run]\nsource = {source}\nomit = ["test_*.py"]\n'
    )
    result = pytester.run(
        sys.executable, "-m", "coverage", "run", *coverage_args, "-m", "pytest",
        "-p", "no:randomly", "-p", "no:cov", *pytest_args,
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str() + result.stderr.str()

    out = io.StringIO()
    assert contexts_report(include=["app.py"], out=out) == 0
    assert out.getvalue() == (
        "Lines only end-to-end tests run (no unit test does):\n"
        f"  app.py: {E2E_ONLY_LINE}\n"
        "Lines only unit tests run (no end-to-end test does):\n"
        f"  app.py: {UNIT_ONLY_LINE}\n"
        "6 lines run by both, 1 only end-to-end, 1 only unit.\n"
    )
