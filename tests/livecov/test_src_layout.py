"""A src layout serves with ``pythonpath = ["src"]`` in ``[tool.livecov]`` (or --pythonpath),
no ``[tool.livecov.env] PYTHONPATH`` needed: the folders go first on the server's PYTHONPATH."""

from __future__ import annotations

import sys
from pathlib import Path

import coverage
import pytest

from livecov.cli import build_parser, main, settings_from_args
from livecov.settings import load_settings

APP = """\
from shared import GREETING


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [GREETING.encode()]
"""
CLIENT = (
    "import os, urllib.request; "
    "print(urllib.request.urlopen(os.environ['LIVE_SERVER_URL'] + '/').read().decode())"
)


@pytest.fixture
def src_layout(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``src/shop`` (the app), importing ``shared`` from a folder already on PYTHONPATH."""
    (project / "src/shop").mkdir(parents=True)
    (project / "src/shop/__init__.py").write_text(APP)
    (project / "lib").mkdir()
    (project / "lib/shared.py").write_text("GREETING = 'hello from src'\n")
    monkeypatch.setenv("PYTHONPATH", str(project / "lib"))
    return project


def livecov_run(project: Path, table: str, *options: str) -> int:
    (project / "pyproject.toml").write_text(f'[tool.livecov]\napp = "shop:app"\n{table}')
    return main(["run", "--no-html", *options, "--", sys.executable, "-c", CLIENT])


def test_pythonpath_in_tool_livecov_serves_a_src_layout(src_layout: Path, capfd) -> None:
    assert livecov_run(src_layout, 'pythonpath = ["src"]\n') == 0
    assert "hello from src" in capfd.readouterr().out
    data = coverage.CoverageData(str(src_layout / ".coverage"))
    data.read()
    assert data.lines(str(src_layout / "src/shop/__init__.py"))


def test_pythonpath_on_the_command_line(src_layout: Path, capfd) -> None:
    assert livecov_run(src_layout, "", "--pythonpath", "src") == 0
    assert "hello from src" in capfd.readouterr().out


def test_without_it_the_src_layout_is_not_found(src_layout: Path, capfd) -> None:
    assert livecov_run(src_layout, "") == 4
    assert "livecov: the app 'shop:app': no module named 'shop'" in capfd.readouterr().err


def test_its_folders_are_relative_to_the_settings_file(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project/pyproject.toml").write_text('[tool.livecov]\npythonpath = ["src"]\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings("project/pyproject.toml").pythonpath == [str(tmp_path / "project/src")]
    args = build_parser().parse_args(["run", "--pythonpath", "lib", "--", "true"])
    assert settings_from_args(args).pythonpath == [str(tmp_path / "lib")]
