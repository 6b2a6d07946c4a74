"""Settings from pyproject.toml and the command line; --help and friends."""

from __future__ import annotations

from pathlib import Path

import pytest

from livecov import __version__
from livecov.cli import build_parser, main, settings_from_args
from livecov.errors import ConfigError
from livecov.settings import Settings, load_settings


def write_pyproject(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(table)
    return path


def test_settings_come_from_tool_livecov(tmp_path: Path) -> None:
    path = write_pyproject(
        tmp_path,
        '[tool.livecov]\napp = "a:b"\nserver = "gunicorn"\nworkers = 3\n'
        'startup-timeout = 5\n[tool.livecov.env]\nX = "{tmpdir}/x"\n',
    )
    settings = load_settings(path)
    assert settings.app == "a:b"
    assert settings.server == "gunicorn"
    assert settings.workers == 3
    assert settings.startup_timeout == 5.0
    assert settings.env == {"X": "{tmpdir}/x"}


def test_missing_file_or_table_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "nowhere.toml") == Settings()
    assert load_settings(write_pyproject(tmp_path, "[project]\nname = 'x'\n")) == Settings()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('colour = "blue"', "unknown setting [tool.livecov] 'colour'"),
        ('workers = "many"', "[tool.livecov] workers must be int, not str"),
        ("contexts = 1", "[tool.livecov] contexts must be bool, not int"),
        ("[tool.livecov.env]\nX = 1", "[tool.livecov.env] values must be strings"),
        ("app = ", "pyproject.toml: "),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, table: str, message: str) -> None:
    header = "" if table.startswith("[") else "[tool.livecov]\n"
    path = write_pyproject(tmp_path, header + table + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert message in str(error.value)


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, '[tool.livecov]\napp = "a:b"\n[tool.livecov.env]\nA = "1"\n')
    args = build_parser().parse_args(
        ["run", "--config", str(path), "--app", "c:d", "--env", "B=2", "--source", "x,y",
         "--no-contexts", "--no-html", "--", "true"]
    )  # fmt: skip
    settings = settings_from_args(args)
    assert settings.app == "c:d"
    assert settings.env == {"A": "1", "B": "2"}
    assert settings.source == ["x", "y"]
    assert settings.contexts is False
    assert settings.html == ""
    assert settings.show_contexts is True  # untouched default


def test_bad_env_option_is_a_clear_error(tmp_path: Path, capsys) -> None:
    status = main(["run", "--config", str(tmp_path / "none.toml"), "--env", "NOEQUALS", "--", "x"])
    assert status == 4
    assert "livecov: --env takes KEY=VALUE, not 'NOEQUALS'" in capsys.readouterr().err


def test_help_shows_the_workflow(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "LIVE_SERVER_URL" in text
    assert "Livecov-Context" in text
    assert "livecov run --app flaskr:create_app" in text


def test_version(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"livecov {__version__}"


def test_no_subcommand_prints_help(capsys) -> None:
    assert main([]) == 4
    assert "SUBCOMMAND" in capsys.readouterr().out
