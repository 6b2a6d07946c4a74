"""Settings from pyproject.toml and the command line; --help and friends."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from livecov import __version__
from livecov.cli import build_parser, main, settings_from_args
from livecov.errors import ConfigError
from livecov.live_server import ServerOptions
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


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--workers", "0"], "workers must be at least 1, not 0"),
        (["--threads", "0"], "threads must be at least 1, not 0"),
        (["--startup-timeout", "-1"], "startup-timeout must be more than 0 s, not -1"),
        (["--stop-timeout", "0"], "stop-timeout must be more than 0 s, not 0"),
        (["--timeout", "nan"], "timeout must be more than 0 s, not nan"),
        (["--fail-under", "101"], "fail-under must be between 0 and 100, not 101"),
    ],
)
def test_bad_numbers_on_the_command_line_exit_4_before_anything_starts(
    tmp_path: Path, capfd, option: list[str], message: str
) -> None:
    marker = tmp_path / "ran"
    status = main(
        ["run", "--config", str(tmp_path / "none.toml"), "--app", "x:app", "--server",
         "gunicorn", *option, "--", "touch", str(marker)]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert status == 4
    assert err == f"livecov: {message}\n"  # one line, no traceback
    assert not marker.exists()


def test_help_states_the_timeouts_livecov_uses(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    defaults = Settings()
    assert f"--startup-timeout S default: {defaults.startup_timeout:g}" in text
    assert f"--stop-timeout S default: {defaults.stop_timeout:g}" in text


def _livecov(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``livecov`` command, as a shell runs it (its arguments are not
    the interned strings a call of ``main([...])`` from Python would pass)."""
    script = Path(sys.executable).with_name("livecov")
    return subprocess.run(
        [str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_livecov_command_runs_both_subcommands(project: Path) -> None:
    ran = _livecov("run", "--app", "branchy:app", "--no-html", "--", "true", cwd=project)
    assert ran.returncode == 0, ran.stderr
    assert "livecov: serving branchy:app at http://127.0.0.1:" in ran.stdout
    assert "branchy.py" in ran.stdout  # the report

    listed = _livecov("contexts", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "Lines only end-to-end tests run" in listed.stdout


def test_only_a_leading_double_dash_is_removed_from_the_command(project: Path, capfd) -> None:
    # Without "--" the command starts at its first word, whatever that word sorts like.
    assert main(["run", "--app", "branchy:app", "--no-html", "true"]) == 0
    status = main(["run", "--app", "branchy:app", "--no-html", "!", "true"])
    assert status == 127
    assert "livecov: the test command '!' was not found" in capfd.readouterr().err


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
