"""``livecov contexts``: what only end-to-end tests protect, and what only unit tests do."""

from __future__ import annotations

from pathlib import Path

import coverage

from livecov.cli import main
from livecov.contexts import format_ranges, is_e2e_context, split_by_layer


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
