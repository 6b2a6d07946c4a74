"""``livecov contexts``: what only end-to-end tests protect, and what only unit tests do."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import coverage

from livecov.cli import main
from livecov.contexts import contexts_report, format_ranges, is_e2e_context, split_by_layer
from tests.livecov.helpers import measure_like_unit_tests


def make_data(path: Path, lines_by_context: dict[str, dict[str, list[int]]]) -> None:
    data = coverage.CoverageData(str(path))
    for context, files in lines_by_context.items():
        data.set_context(context)
        data.add_lines({name: dict.fromkeys(lines) for name, lines in files.items()})
    data.write()


def test_classifies_contexts() -> None:
    assert is_e2e_context("tests/e2e/test_x.py::test_y[chromium]")
    assert is_e2e_context("live-server")
    assert not is_e2e_context("tests/unit/test_x.py::test_y|run")
    assert not is_e2e_context("tests/unit/test_x.py::test_y|setup")
    assert not is_e2e_context("")
    assert is_e2e_context("browser-1", ["browser-*"])
    assert not is_e2e_context("live-server", ["browser-*"])


def test_splits_lines_by_layer(tmp_path: Path) -> None:
    path = tmp_path / ".coverage"
    make_data(
        path,
        {
            "t/unit.py::a|run": {"/app/views.py": [1, 2, 3], "/app/db.py": [1]},
            "t/e2e.py::b[chromium]": {"/app/views.py": [3, 4, 5, 7]},
        },
    )
    data = coverage.CoverageData(str(path))
    data.read()
    split = split_by_layer(data)
    assert split.only_unit == {"/app/views.py": [1, 2], "/app/db.py": [1]}
    assert split.only_e2e == {"/app/views.py": [4, 5, 7]}
    assert split.both == 1


def test_format_ranges() -> None:
    assert format_ranges([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert format_ranges([]) == ""


def test_cli_report(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    make_data(
        tmp_path / "data",
        {
            "t/unit.py::a|run": {str(tmp_path / "views.py"): [1, 2]},
            "live-server": {str(tmp_path / "views.py"): [2, 8, 9]},
        },
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
    views, other = str(tmp_path / "app" / "views.py"), str(tmp_path / "lib" / "x.py")
    make_data(tmp_path / "d", {"live-server": {views: [1], other: [5]}})
    assert main(["contexts", "--data-file", "d", "--include", "app/*"]) == 0
    out = capsys.readouterr().out
    assert "app/views.py: 1" in out
    assert "lib/x.py" not in out


def test_none_sections_print_none(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    make_data(tmp_path / "d", {"live-server": {str(tmp_path / "v.py"): [1]}})
    assert main(["contexts", "--data-file", "d", "--e2e", "live-*"]) == 0
    assert "(none)" in capsys.readouterr().out


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
