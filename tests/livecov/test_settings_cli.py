"""Settings from ``[tool.livecov]`` in pyproject.toml: types, limits, defaults, one-line errors.

The command line that overrides them is test_cli.py's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from livecov.errors import ConfigError
from livecov.live_server import ServerOptions
from livecov.settings import BY_NAME, Settings, load_settings


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


def test_pythonpath_entries_are_relative_to_the_pyprojects_folder(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, '[tool.livecov]\npythonpath = ["src", "/opt/lib"]\n')
    assert load_settings(path).pythonpath == [str(tmp_path / "src"), "/opt/lib"]


def test_the_affected_table_is_not_a_setting_of_livecov_run(tmp_path: Path) -> None:
    # [tool.livecov.affected] is livecov affected's own table (livecov.affected.settings).
    path = write_pyproject(
        tmp_path, '[tool.livecov]\napp = "a:b"\n[tool.livecov.affected]\nignore = ["docs/*"]\n'
    )
    assert load_settings(path) == Settings(app="a:b")
    path.write_text('[tool.livecov.affected]\nignore = []\n[tool.livecov]\nserver = "waitress"\n')
    assert load_settings(path) == Settings(server="waitress")  # the keys after it too


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
        ("app = 5", "[tool.livecov] app must be str, not int"),
        ('timeout = "10"', "[tool.livecov] timeout must be float, not str"),
        ('source = "src"', "[tool.livecov] source must be list, not str"),
        ("source = [1]", "[tool.livecov] source must be a list of strings"),
        ("pythonpath = [1]", "[tool.livecov] pythonpath must be a list of strings"),
        ('pythonpath = "src"', "[tool.livecov] pythonpath must be list, not str"),
        ("workers = true", "[tool.livecov] workers must be int, not bool"),
        ("workers = 0", "pyproject.toml: [tool.livecov] workers must be at least 1, not 0"),
        ("threads = -2", "[tool.livecov] threads must be at least 1, not -2"),
        ("stop-timeout = 0", "[tool.livecov] stop-timeout must be more than 0 s, not 0"),
        ("timeout = -1.5", "[tool.livecov] timeout must be more than 0 s, not -1.5"),
        ("fail-under = 100.5", "[tool.livecov] fail-under must be between 0 and 100, not 100.5"),
        ("fail-under = -1", "[tool.livecov] fail-under must be between 0 and 100, not -1"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, table: str, message: str) -> None:
    header = "" if table.startswith("[") else "[tool.livecov]\n"
    path = write_pyproject(tmp_path, header + table + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert message in str(error.value)


def test_settings_at_their_limits_are_accepted(tmp_path: Path) -> None:
    path = write_pyproject(
        tmp_path,
        "[tool.livecov]\nworkers = 1\nthreads = 1\nfail-under = 0\ntimeout = 0.01\n"
        'startup-timeout = 0.01\nstop-timeout = 0.01\nsource = ["src", "lib"]\n',
    )
    settings = load_settings(path)
    assert (settings.workers, settings.threads, settings.fail_under) == (1, 1, 0.0)
    assert (settings.timeout, settings.startup_timeout, settings.stop_timeout) == (0.01,) * 3
    assert settings.source == ["src", "lib"]
    path = write_pyproject(tmp_path, "[tool.livecov]\nfail-under = 100\n")
    assert load_settings(path).fail_under == 100.0


def test_library_defaults_are_the_command_line_defaults() -> None:
    # A LiveServer made in Python serves like `livecov run` with the same settings unset.
    # Kills the NumberReplacer mutants of the defaults in ServerOptions and in Settings
    # (each session mutates one of the two; the other still holds the documented value).
    defaults = Settings()
    options = ServerOptions(app="x:app")
    shared = {f.name for f in dataclasses.fields(ServerOptions)} & {
        f.name for f in dataclasses.fields(Settings)
    }
    assert shared >= {"server", "workers", "threads", "startup_timeout", "stop_timeout"}
    for name in shared - {"app"}:
        assert getattr(options, name) == getattr(defaults, name), name


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("contexts", "true", True),
        ("contexts", "Yes", True),
        ("contexts", "on", True),
        ("contexts", "1", True),
        ("contexts", "false", False),
        ("contexts", "OFF", False),
        ("workers", "3", 3),
        ("timeout", "1.5", 1.5),
        ("app", "m:app", "m:app"),
        ("auto_reset", "never", False),  # the former --live-server-reset's words
        ("auto_reset", "auto", True),
    ],
)
def test_a_value_given_as_text_is_read_as_its_setting_s_type(
    name: str, text: str, value: object
) -> None:
    # What the pytest plugin's options and ini keys give (livecov.pytest_options).
    read = BY_NAME[name].from_text(text)
    assert read == value
    assert type(read) is type(value)


def test_only_source_splits_its_values_at_commas() -> None:
    # What a repeated flag or an ini list gives (livecov.pytest_options, livecov run's flags):
    # coverage run's --source takes a,b; a folder's name may hold a comma.
    assert BY_NAME["source"].from_lines(["src,lib", "more"]) == ["src", "lib", "more"]
    assert BY_NAME["pythonpath"].from_lines(["src,v2", "lib"]) == ["src,v2", "lib"]
