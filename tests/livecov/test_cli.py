"""The ``livecov`` command line as a component: its arguments, ``--help`` and ``--version``,
bad input (one line and exit status 4, no traceback), and each subcommand's wiring to the
code behind it, through ``main`` and through the installed command.

What the subcommands do is pinned in the behaviour files: test_run*.py, test_contexts.py,
test_affected_cli.py, test_exit_statuses.py, test_settings_cli.py ([tool.livecov]).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from livecov import __version__
from livecov.affected.record import read_record
from livecov.cli import build_parser, main, settings_from_args
from livecov.errors import EXIT_USAGE
from livecov.settings import Settings
from tests.livecov.affected_project import Project
from tests.livecov.helpers import livecov_command, livecov_lines
from tests.livecov.test_contexts import make_data, module

SUBCOMMANDS = ("run", "contexts", "affected", "record")
BIG = "tests/test_views.py::test_big"


def usage_error(capfd: pytest.CaptureFixture[str], *arguments: str) -> str:
    """The one ``livecov:`` line that ``livecov ARGUMENTS`` exits 4 with, after its usage."""
    with pytest.raises(SystemExit) as exit_:
        main(list(arguments))
    assert exit_.value.code == EXIT_USAGE  # argparse's own 2 would read as "under fail-under"
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("usage: livecov")
    assert livecov_lines(err) == [err.splitlines()[-1]]
    return err.splitlines()[-1]


# -- --help, --version, no subcommand -----------------------------------------------------


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for subcommand in SUBCOMMANDS:
        assert f"    {subcommand} " in text, subcommand
    assert "Measure the coverage of a web app" in text  # the description


@pytest.mark.parametrize(
    ("subcommand", "says"),
    [
        ("run", "-- COMMAND [ARGS...]"),
        ("contexts", "--e2e PATTERN"),
        ("affected", "pytest $(livecov affected --base main)"),
        ("record", "Run it after coverage combine."),
    ],
)
def test_each_subcommand_has_its_help(
    capsys: pytest.CaptureFixture[str], subcommand: str, says: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([subcommand, "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith(f"usage: livecov {subcommand} ")
    assert " ".join(says.split()) in text


def test_run_help_shows_the_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "LIVE_SERVER_URL" in text
    assert "Livecov-Context" in text
    assert "livecov run --app flaskr:create_app" in text


def test_run_help_states_the_timeouts_livecov_uses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    defaults = Settings()
    assert f"to listen (default: {defaults.startup_timeout:g})" in text
    assert f"save its data (default: {defaults.stop_timeout:g})" in text


def test_the_pytest_plugins_own_settings_are_no_run_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # auto_reset and live_server_fixture decide what pytest's fixtures do: livecov run has none.
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "--no-auto-reset" not in text
    assert "--auto-reset" not in text
    assert "--live-server-fixture" not in text


def test_run_help_fills_the_exit_statuses_to_88_columns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    lines = text[text.index("exit status (") :].splitlines()[1:]
    assert max(map(len, lines)) <= 88
    for line, after in itertools.pairwise(lines):
        if after.startswith("    "):  # the same status goes on: its next word did not fit
            assert len(line) + 1 + len(after.split()[0]) > 88, line


def test_run_help_states_the_switches_on_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(off: requests are served concurrently) (default: on)" in text  # --contexts
    assert "in the report of the test it printed during) (default: on)" in text  # output


def test_importing_the_package_loads_nothing_else() -> None:
    # The server process imports livecov.server.serve, hence this package: the test side's
    # modules (subprocess, coverage, ...) are loaded on first use only.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    done = subprocess.run(
        [sys.executable, "-c", "import sys, livecov; print(sorted(m for m in sys.modules"
         " if m.startswith('livecov')))"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "['livecov']"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"livecov {__version__}"


def test_python_dash_m_livecov() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "livecov", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"livecov {__version__}\n"


def test_no_subcommand_prints_help_and_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    out = capsys.readouterr().out
    assert out.startswith("usage: livecov")
    assert "SUBCOMMAND" in out


# -- bad input: one line, exit status 4 ---------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["frobnicate"], "livecov: argument SUBCOMMAND: invalid choice: 'frobnicate'"),
        (["--bogus"], "livecov: unrecognized arguments: --bogus"),
        (["run", "--bogus", "--", "true"], "livecov: unrecognized arguments: --bogus"),
        (["run", "--workers", "many", "--", "true"], "livecov: argument --workers: invalid int"),
        (["run", "--timeout", "soon", "--", "true"], "livecov: argument --timeout: invalid float"),
        (["run", "--server", "tornado", "--", "true"], "livecov: argument --server: invalid"),
        (["contexts", "--e2e"], "livecov: argument --e2e: expected one argument"),
        (["affected", "--explain=yes"], "livecov: argument --explain: ignored explicit argument"),
        (["record", "--base", "HEAD"], "livecov: unrecognized arguments: --base HEAD"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_4(
    capfd: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert usage_error(capfd, *arguments).startswith(message)


def test_a_bad_env_option_is_one_line_and_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["run", "--config", str(tmp_path / "none.toml"), "--env", "NOEQUALS", "--", "x"])
    assert status == EXIT_USAGE
    assert capsys.readouterr().err == "livecov: --env takes KEY=VALUE, not 'NOEQUALS'\n"


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
def test_bad_numbers_exit_4_before_anything_starts(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], option: list[str], message: str
) -> None:
    marker = tmp_path / "ran"
    status = main(
        ["run", "--config", str(tmp_path / "none.toml"), "--app", "x:app", "--server",
         "gunicorn", *option, "--", "touch", str(marker)]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert status == EXIT_USAGE
    assert err == f"livecov: {message}\n"  # one line, no traceback
    assert not marker.exists()


# -- run: from arguments to settings and command ------------------------------------------


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.livecov]\napp = "a:b"\n[tool.livecov.env]\nA = "1"\n')
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


def test_only_a_leading_double_dash_is_removed_from_the_command(
    project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # Without "--" the command starts at its first word, whatever that word sorts like.
    assert main(["run", "--app", "branchy:app", "--no-html", "true"]) == 0
    status = main(["run", "--app", "branchy:app", "--no-html", "!", "true"])
    assert status == 127
    assert "livecov: the test command '!' was not found" in capfd.readouterr().err


# -- each subcommand reaches its code -----------------------------------------------------


def test_the_livecov_command_runs_run_and_contexts(project: Path) -> None:
    # The installed command's arguments are not interned strings, as main([...])'s are.
    ran = livecov_command("run", "--app", "branchy:app", "--no-html", "--", "true", cwd=project)
    assert ran.returncode == 0, ran.stderr
    assert "livecov: serving branchy:app at http://127.0.0.1:" in ran.stdout
    assert "branchy.py" in ran.stdout  # the report

    listed = livecov_command("contexts", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "Lines only end-to-end tests run" in listed.stdout


def test_the_livecov_command_runs_affected_and_record(repo: Project) -> None:
    repo.edit("views.py", 'return "small"', 'return "SMALL"')
    recorded = livecov_command("record", "--data-file", ".coverage", cwd=repo.root)
    assert recorded.returncode == 0, recorded.stderr
    repo.git("checkout", "views.py")  # back to the commit: the change is undone
    listed = livecov_command("affected", cwd=repo.root)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["tests/test_views.py::test_small"]


def test_contexts_reads_the_data_file_its_rcfile_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    views = module(tmp_path / "views.py", 1)
    make_data(tmp_path / "kept", {"live-server": {views: [1]}}, server={"live-server"})
    (tmp_path / "other.rc").write_text("[run]\ndata_file = kept\n")
    assert main(["contexts", "--rcfile", "other.rc"]) == 0
    assert "  views.py: 1\n" in capsys.readouterr().out
    assert main(["contexts"]) == EXIT_USAGE  # without it: .coverage, which is not there
    assert "no coverage data in" in capsys.readouterr().err


def test_record_and_affected_read_the_data_file_their_rcfile_names(
    repo: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.data.rename(repo.root / "kept.coverage")
    repo.write("other.rc", "[run]\ndata_file = kept.coverage\n")
    repo.commit()
    assert main(["record", "--rcfile", "other.rc"]) == 0
    assert "kept.coverage was measured at " in capsys.readouterr().out
    assert read_record(repo.root / "kept.coverage") is not None

    repo.edit("views.py", 'return "big"', 'return "BIG"')
    assert main(["affected", "--rcfile", "other.rc"]) == 0
    assert capsys.readouterr().out.splitlines() == [BIG]
    assert main(["affected"]) == EXIT_USAGE  # without it: .coverage, which is not there
    assert "no coverage data in" in capsys.readouterr().err
