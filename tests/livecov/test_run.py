"""``livecov run`` end to end: real server processes, real clients, real reports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import coverage
import pytest

from livecov.cli import main
from livecov.errors import ConfigError
from livecov.measure import check_not_measured_into, open_coverage
from tests.livecov.helpers import (
    expected_executed,
    json_report,
    livecov_lines,
    measure_like_unit_tests,
    sighup_default,
    unmeasured_command,
)

CURL = shutil.which("curl")
NODE = shutil.which("node")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")


def run(*args: str) -> int:
    return main(["run", "--no-html", *args])


@needs_curl
def test_curl_client_covers_exactly_the_lines_its_requests_ran(project: Path, capfd) -> None:
    status = run(
        "--app", "branchy:app", "--json", "report.json", "--",
        "sh", "-c",
        'curl -fsS -H "Livecov-Context: curl-hello" "$LIVE_SERVER_URL/hello" && '
        'curl -fsS -H "Livecov-Context: curl-square" "$LIVE_SERVER_URL/square?n=7"',
    )  # fmt: skip

    out = capfd.readouterr()
    assert status == 0, out.err
    assert "Hello49" in out.out  # the client's output is streamed through
    report = json_report(project / "report.json")["files"]["branchy.py"]
    expected = expected_executed(project / "branchy.py", {"hello", "square"})
    assert set(report["executed_lines"]) == expected
    assert report["missing_branches"]  # branch data was measured: /crash etc. never taken
    contexts = report["contexts"]
    hello_line = _line_of(project / "branchy.py", 'body = "Hello"')
    square_line = _line_of(project / "branchy.py", "body = str(number * number)")
    assert contexts[str(hello_line)] == ["curl-hello"]
    assert contexts[str(square_line)] == ["curl-square"]


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_client_contexts_show_in_the_html_report(project: Path, capfd) -> None:
    (project / "client.mjs").write_text(
        textwrap.dedent("""\
        const url = process.env.LIVE_SERVER_URL;
        for (const [name, path] of [["js-hello", "/hello"], ["js-missing", "/nope"]]) {
          const response = await fetch(url + path, {headers: {"Livecov-Context": name}});
          console.log(name, response.status, await response.text());
        }
        """)
    )
    status = main(
        ["run", "--app", "branchy:create_app", "--html", "html", "--", "node", "client.mjs"]
    )

    out = capfd.readouterr().out
    assert status == 0
    assert "js-hello 200 Hello" in out
    assert "js-missing 404 not found" in out
    page = (project / "html" / "branchy_py.html").read_text()
    assert "js-hello" in page
    assert "js-missing" in page


@needs_curl
def test_literal_flaskr_hello_command(tmp_path: Path, monkeypatch, capfd) -> None:
    repo = Path(__file__).parents[2]
    monkeypatch.chdir(repo)
    data = tmp_path / "data"
    status = main([
        "run", "--app", "flaskr:create_app", "--data-file", str(data), "--erase",
        "--no-html", "--fail-under", "0", "--json", str(tmp_path / "r.json"), "--env",
        "FLASKR_INSTANCE_PATH={tmpdir}/instance", "--",
        "sh", "-c", 'curl -fsS "$LIVE_SERVER_URL/hello"',
    ])  # fmt: skip

    assert status == 0, capfd.readouterr().err
    files = json_report(tmp_path / "r.json")["files"]
    factory = files["flaskr/src/flaskr/__init__.py"]
    hello_line = _line_of(repo / "flaskr/src/flaskr/__init__.py", "Hello, World!")
    assert hello_line in factory["executed_lines"]
    assert factory["contexts"][str(hello_line)] == ["live-server"]
    blog = files["flaskr/src/flaskr/blog.py"]
    assert blog["summary"]["percent_covered"] < 100  # no blog view was requested


def test_existing_unit_data_is_combined_with_the_servers(project: Path, capfd) -> None:
    measure_like_unit_tests(project, "import branchy\n")
    status = run(
        "--app", "branchy:app", "--json", "r.json", "--",
        "python", "-c", "import os, urllib.request as u; "
        "u.urlopen(os.environ['LIVE_SERVER_URL'] + '/hello').read()",
    )  # fmt: skip

    assert status == 0, capfd.readouterr().err
    contexts = json_report(project / "r.json")["files"]["branchy.py"]["contexts"]
    import_line = _line_of(project / "branchy.py", "def app(")
    assert set(contexts[str(import_line)]) == {"", "live-server"}


def test_failing_command_passes_its_status_and_still_reports(project: Path, capfd) -> None:
    status = run("--app", "branchy:app", "--", "sh", "-c", "exit 5")

    err = capfd.readouterr()
    assert status == 5
    assert "livecov: the test command failed (exit status 5)" in err.err
    assert "branchy.py" in err.out  # the report is still printed


def test_missing_command_is_a_clear_error(project: Path, capfd) -> None:
    status = run("--app", "branchy:app", "--", "no-such-test-runner", "--flag")

    assert status == 127
    assert "livecov: the test command 'no-such-test-runner' was not found" in capfd.readouterr().err


def test_no_command_and_no_app_are_clear_errors(project: Path, capfd) -> None:
    assert run("--app", "branchy:app") == 4
    assert "no test command" in capfd.readouterr().err
    assert run("--", "true") == 4
    assert "no app to serve: give --app MODULE:NAME" in capfd.readouterr().err


def test_app_that_fails_to_import_shows_its_traceback(project: Path, capfd) -> None:
    status = run("--app", "broken:app", "--", "true")

    err = capfd.readouterr().err
    assert status == 3
    lines = err.splitlines()
    assert lines[-1] == (
        "livecov: importing the app 'broken:app' raised RuntimeError: boom while importing the app"
    )
    assert [line for line in lines if line.startswith("livecov:")] == lines[-1:]
    # The user's traceback, marked as the server's output, with none of livecov's frames.
    assert lines[:-1] == [
        "[live-server] Traceback (most recent call last):",
        f'[live-server]   File "{project / "broken.py"}", line 3, in <module>',
        '[live-server]     raise RuntimeError("boom while importing the app")',
        "[live-server] RuntimeError: boom while importing the app",
    ]


def test_server_that_never_listens_times_out_and_is_stopped(project: Path, capfd) -> None:
    status = run("--app", "hang:create_app", "--startup-timeout", "1", "--", "true")

    assert status == 3
    assert "did not listen within 1 s (--startup-timeout); it was stopped" in capfd.readouterr().err


def test_coverage_under_threshold_fails(project: Path, capfd) -> None:
    status = run("--app", "branchy:app", "--fail-under", "99", "--", "true")

    assert status == 2
    assert "is under fail-under=99" in capfd.readouterr().err


def test_coverage_over_threshold_passes(project: Path, capfd) -> None:
    assert run("--app", "branchy:app", "--fail-under", "1", "--", "true") == 0


def test_command_timeout_stops_it_and_fails(project: Path, capfd) -> None:
    status = run(
        "--app", "branchy:app", "--timeout", "1", "--", "sh", "-c", "exec tail -f /dev/null"
    )

    assert status == 124
    assert "did not finish within 1 s (--timeout)" in capfd.readouterr().err


def test_statement_data_is_refused_before_a_branch_run_starts(project: Path, capfd) -> None:
    measure_like_unit_tests(project, "import hang\n", branch=False)
    status = run("--app", "branchy:app", "--", "sh", "-c", "echo ran")

    out, err = capfd.readouterr()
    assert status == 4
    assert "ran" not in out  # refused before the server or the command started
    assert livecov_lines(err) == [
        "livecov: .coverage holds statement coverage but the server would measure branches "
        "([tool.coverage.run] branch = true): measure both with the same [tool.coverage.run], "
        "or start afresh with --erase"
    ]


def test_branch_data_is_refused_before_a_statement_run_starts(project: Path, capfd) -> None:
    measure_like_unit_tests(project, "import hang\n", branch=True)
    (project / "statements.rc").write_text("[run]\nsource = .\n")
    status = run("--app", "branchy:app", "--rcfile", "statements.rc", "--", "true")

    assert status == 4
    assert livecov_lines(capfd.readouterr().err) == [
        "livecov: .coverage holds branch coverage (measured with --branch) but the server "
        "would measure statements only: set branch = true in [tool.coverage.run] for both, "
        "or start afresh with --erase"
    ]


def test_unreadable_data_is_refused_in_one_line(project: Path, capfd) -> None:
    (project / ".coverage").write_text("not a database")
    status = run("--app", "branchy:app", "--", "true")

    err = capfd.readouterr().err
    assert status == 4
    assert livecov_lines(err)[0].startswith("livecov: cannot read the coverage data .coverage: ")
    assert livecov_lines(err)[0].endswith("; start afresh with --erase")
    assert len(livecov_lines(err)) == 1


def test_data_made_unlike_during_the_run_does_not_combine(project: Path, capfd) -> None:
    # The command itself measures statements into the data file the run combines into.
    (project / "unit_run.py").write_text("import hang\n")
    (project / "unit.rc").write_text("[run]\nbranch = false\nsource = .\nomit = unit_run.py\n")
    measure = f"{sys.executable} -m coverage run --rcfile=unit.rc unit_run.py"
    status = run("--app", "branchy:app", "--", "sh", "-c", measure)

    err = capfd.readouterr().err
    assert status == 5  # the server's data is there, but unusable: coverage lost
    assert "cannot combine the server's data with" in err
    assert "--erase" in err


def test_erase_starts_afresh(project: Path, capfd) -> None:
    measure_like_unit_tests(project, "import hang\n", branch=False)
    assert run("--app", "branchy:app", "--erase", "--", "true") == 0
    data = coverage.CoverageData(str(project / ".coverage"))
    data.read()
    assert not data.lines(str(project / "hang.py"))  # the unit run's lines are gone
    assert not data.lines(str(project / "unit_run.py"))
    assert data.lines(str(project / "branchy.py"))  # only the server's are there
    assert data.has_arcs()  # branch data: nothing of the old statement data is left


EARLIER = ".coverage already held an earlier live server's data"


def test_a_run_adding_to_an_earlier_servers_data_says_so(project: Path, capfd) -> None:
    """Kept data is the unit tests' as a rule; an earlier server's (a run before this one,
    perhaps of other code) counts too, which one line says, with the way out."""
    measure_like_unit_tests(project, "import branchy\n")
    after_unit_tests = run("--app", "branchy:app", "--", "true"), capfd.readouterr().err
    after_a_run = run("--app", "branchy:app", "--", "true"), capfd.readouterr().err
    erased = run("--app", "branchy:app", "--erase", "--", "true"), capfd.readouterr().err

    assert after_unit_tests[0] == after_a_run[0] == erased[0] == 0
    assert EARLIER not in after_unit_tests[1]
    assert f"livecov: {EARLIER} (a livecov run, or pytest with livecov's plugin)" in after_a_run[1]
    assert livecov_lines(after_a_run[1])[-1].endswith("; --erase starts afresh")
    assert EARLIER not in erased[1]


def _line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


@needs_curl
def test_server_crash_mid_run_fails_with_its_output(project: Path, capfd) -> None:
    status = run(
        "--app", "branchy:app", "--", "sh", "-c", 'curl -sS "$LIVE_SERVER_URL/crash"; true'
    )

    err = capfd.readouterr().err
    assert status == 3
    assert "livecov: the server died during the run (killed by SIGKILL)" in err
    assert "its coverage was lost" in err


def test_command_killed_by_a_signal(project: Path, capfd) -> None:
    status = run("--app", "branchy:app", "--", "sh", "-c", "kill -KILL $$")

    assert status == 137
    assert "the test command failed (killed by SIGKILL)" in capfd.readouterr().err


def test_the_command_reads_the_input_livecov_was_given(project: Path) -> None:
    # Not a terminal (a pipe here): the command reads livecov's own input.
    done = subprocess.run(
        [sys.executable, "-m", "livecov", "run", "--app", "branchy:app", "--no-html",
         "--", *unmeasured_command("-c", "print('read:', input())")],
        cwd=project, input="a line for the command\n", capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "read: a line for the command" in done.stdout.splitlines()


def test_command_that_is_not_executable(project: Path, capfd) -> None:
    (project / "script.sh").write_text("#!/bin/sh\n")
    assert run("--app", "branchy:app", "--", "./script.sh", "--its-argument") == 126
    assert "'./script.sh' is not executable" in capfd.readouterr().err


def test_command_ignoring_sigterm_is_killed_after_the_grace_period(project: Path, capfd) -> None:
    stubborn = ["sh", "-c", "trap '' TERM; exec tail -f /dev/null"]
    status = run(
        "--app", "branchy:app", "--timeout", "0.5", "--stop-timeout", "0.5", "--", *stubborn
    )

    assert status == 124
    assert "it was stopped" in capfd.readouterr().err


@needs_curl
def test_no_contexts_records_lines_without_test_names(project: Path, capfd) -> None:
    client = 'curl -fsS -H "Livecov-Context: ignored" "$LIVE_SERVER_URL/hello"'
    status = run(
        "--app", "branchy:app", "--no-contexts", "--json", "r.json", "--", "sh", "-c", client
    )

    assert status == 0
    contexts = json_report(project / "r.json")["files"]["branchy.py"]["contexts"]
    hello = _line_of(project / "branchy.py", 'body = "Hello"')
    assert contexts[str(hello)] == ["live-server"]  # the server's, no test named


def test_xml_and_json_reports(project: Path, capfd) -> None:
    client = [
        sys.executable, "-c", "import os, urllib.request as u\n"
        "for p in ('/hello', '/square'): u.urlopen(os.environ['LIVE_SERVER_URL'] + p).read()",
    ]  # fmt: skip
    assert run("--app", "branchy:app", "--xml", "c.xml", "--json", "c.json", "--", *client) == 0
    expected = expected_executed(project / "branchy.py", {"hello", "square"})
    hits = {
        int(line.get("number")): int(line.get("hits"))
        for cls in ElementTree.parse(project / "c.xml").iter("class")  # noqa: S314 - our own file
        if cls.get("filename") == "branchy.py"
        for line in cls.iter("line")
    }
    assert {number for number, count in hits.items() if count} == expected
    assert any(count == 0 for count in hits.values())  # the lines no request ran are there
    report = json_report(project / "c.json")["files"]["branchy.py"]
    assert set(report["executed_lines"]) == expected


def test_unreadable_coverage_config_is_a_clear_error(project: Path, capfd) -> None:
    assert run("--app", "branchy:app", "--rcfile", "missing.rc", "--", "true") == 4
    assert "coverage configuration: Couldn't read 'missing.rc'" in capfd.readouterr().err


@needs_curl
def test_crash_without_any_saved_data(project: Path, capfd) -> None:
    crash = ["sh", "-c", 'curl -sS "$LIVE_SERVER_URL/crash"; true']
    assert run("--app", "branchy:app", "--no-contexts", "--", *crash) == 3
    err = capfd.readouterr().err
    assert "killed by SIGKILL" in err


def test_command_killed_by_sighup_exits_129_like_a_shell(project: Path, capfd) -> None:
    # Signal 1 is where "status < 0" and "status < -1" part ways.
    with sighup_default():
        status = run("--app", "branchy:app", "--", "sh", "-c", "kill -HUP $$")

    assert status == 129
    assert "the test command failed (killed by SIGHUP)" in capfd.readouterr().err


def test_the_first_failure_sets_the_exit_status_and_every_failure_is_told(
    project: Path, capfd
) -> None:
    status = run("--app", "branchy:app", "--fail-under", "100", "--", "sh", "-c", "exit 5")

    err = capfd.readouterr().err
    assert status == 5  # the command's failure came first; fail-under's 2 does not replace it
    assert "livecov: the test command failed (exit status 5)" in err
    assert "is under fail-under=100" in err


def test_html_report_by_default_in_a_chosen_folder_or_none(project: Path) -> None:
    assert main(["run", "--app", "branchy:app", "--", "true"]) == 0
    assert "branchy_py.html" in {p.name for p in (project / "htmlcov").iterdir()}

    assert main(["run", "--app", "branchy:app", "--html", "elsewhere", "--", "true"]) == 0
    assert (project / "elsewhere" / "index.html").is_file()

    shutil.rmtree(project / "htmlcov")
    shutil.rmtree(project / "elsewhere")
    assert main(["run", "--app", "branchy:app", "--no-html", "--", "true"]) == 0
    assert not (project / "htmlcov").exists()


def test_run_report_lists_the_missing_lines(project: Path, capfd) -> None:
    # Kills show_missing=True -> False in measure.write_reports: the terminal report of
    # `livecov run` must say which lines no request ran.
    status = main(["run", "--no-html", "--app", "branchy:app", "--", sys.executable, "-c", ""])
    out = capfd.readouterr().out
    assert status == 0, out
    header = next(line for line in out.splitlines() if line.startswith("Name"))
    assert header.split()[-1] == "Missing"
    branchy = next(line for line in out.splitlines() if line.startswith("branchy.py"))
    assert re.search(r"\d+-\d+", branchy.split("%", 1)[1])  # e.g. "15-33, 37": no request ran


def test_under_coverage_run_into_the_same_data_it_refuses(project: Path) -> None:
    """`coverage run --source=X -m livecov run`: the outer measurement would overwrite the
    server's data at exit, and its --source never reaches the server: one line, nothing run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    outer = subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--source=branchy", "-m", "livecov", "run",
         "--app", "branchy:app", "--", "sh", "-c", "echo ran"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip

    assert outer.returncode == 4
    assert "ran" not in outer.stdout
    assert livecov_lines(outer.stderr) == [
        "livecov: livecov run is measured by coverage run into .coverage, which would "
        "overwrite the server's data at exit (and its --source is not the server's): run "
        "livecov run without coverage run; --source, --rcfile and [tool.coverage.run] say "
        "what it measures"
    ]


def test_a_parallel_measurement_into_the_same_data_is_refused(tmp_path: Path) -> None:
    """`coverage run --parallel-mode -m livecov run`: the measurement saves into
    `.coverage.<suffix>`, which `coverage combine` folds into .coverage over the server's."""
    running = coverage.Coverage(
        data_file=str(tmp_path / ".coverage"), data_suffix=True, config_file=False
    )
    running._warn_no_data = False  # it measures nothing on purpose
    running.start()  # a started measurement has its parallel data file name
    running.stop()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coverage.Coverage, "_instances", [running])
        with pytest.raises(ConfigError, match="livecov run is measured by coverage run"):
            check_not_measured_into(open_coverage(True, str(tmp_path / ".coverage")))
        check_not_measured_into(open_coverage(True, str(tmp_path / "other" / ".coverage")))
        check_not_measured_into(open_coverage(True, str(tmp_path / ".coverage-e2e")))


def test_a_measurement_into_its_own_file_is_no_concern(project: Path) -> None:
    # This test runs measured (make test), or not: either way into another data file.
    check_not_measured_into(open_coverage(True))
    running = coverage.Coverage.current()
    if running is not None:  # measured: the same file as the running one is refused
        same = Path(running.get_data().data_filename())
        with pytest.raises(ConfigError, match="livecov run is measured by coverage run"):
            check_not_measured_into(open_coverage(True, str(same)))
        with pytest.raises(ConfigError, match="livecov run is measured by coverage run"):
            check_not_measured_into(open_coverage(True, str(same.with_name(".coverage"))))
