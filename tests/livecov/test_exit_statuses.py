"""Each exit status of ``livecov run`` means one thing: every row of the documentation's table, with
the result file a CI script reads to tell livecov's statuses from the command's own."""

from __future__ import annotations

import ast
import json
import os
import re
import runpy
import signal
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from livecov import errors, runner
from livecov.cli import main
from tests.livecov.helpers import REPO, pid_alive, reaped, unmeasured_command

# Requests a route that raises, and passes (the client only prints the error page's status).
CLIENT_OF_RAISE = (
    "import os, urllib.request as u\n"
    "try: u.urlopen(os.environ['LIVE_SERVER_URL'] + '/raise')\n"
    "except OSError as e: print('the client saw', e)"
)

# One run per row: (outcome, arguments after `livecov run`, expected exit status).
ROWS = {
    "ok": (["--app", "branchy:app", "--", "true"], 0),
    # 3 on purpose: the command's own 3 is not livecov's "server failed"; the file says so.
    "command-failed": (["--app", "branchy:app", "--", "sh", "-c", "exit 3"], 3),
    "coverage-under": (["--app", "branchy:app", "--fail-under", "99", "--", "true"], 2),
    "server-failed": (["--app", "broken:app", "--", "true"], 3),
    "usage-error": (["--app", "branchy:app", "--workers", "0", "--", "true"], 4),
    "coverage-lost": (["--app", "branchy:app", "--source", "elsewhere", "--", "true"], 5),
    "app-errors": (["--app", "failing:app", "--", sys.executable, "-c", CLIENT_OF_RAISE], 6),
    "command-timeout": (
        ["--app", "branchy:app", "--timeout", "0.5", "--", "sleep", "60"],
        124,
    ),
    "command-not-executable": (["--app", "branchy:app", "--", "./not-executable.sh"], 126),
    "command-not-found": (["--app", "branchy:app", "--", "no-such-test-runner"], 127),
}


def result_file(project: Path) -> dict:
    return json.loads((project / "result.json").read_text())


@pytest.mark.parametrize("outcome", sorted(ROWS))
def test_each_status_means_one_thing_and_the_result_file_says_which(
    project: Path, capfd, outcome: str
) -> None:
    (project / "elsewhere").mkdir()
    (project / "not-executable.sh").write_text("#!/bin/sh\n")
    arguments, status = ROWS[outcome]

    assert main(["run", "--no-html", "--result-file", "result.json", *arguments]) == status

    err = capfd.readouterr().err
    result = result_file(project)
    assert result["format"] == 1
    assert result["exit_status"] == status
    assert result["outcome"] == outcome
    assert result["from_command"] is (outcome == "command-failed")
    assert result["command_status"] == {"ok": 0, "command-failed": 3}.get(
        outcome, result["command_status"]
    )
    for failure in result["failures"]:
        assert f"livecov: {failure['message']}" in err  # every failure is told, one line each
    if outcome != "app-errors":  # no request failed, or none was served (server-failed, ...)
        assert result["app_errors"] == {"count": 0, "first_exception": None}
    if outcome == "ok":
        assert result["failures"] == []
        assert result["coverage"] > 0
    else:
        assert result["failures"][0]["outcome"] == outcome
        assert result["failures"][0]["exit_status"] == status


def test_livecov_stopped_by_a_signal_exits_128_plus_n_with_its_result_file(project: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "livecov", "run", "--app", "branchy:app", "--no-html",
         "--result-file", "result.json", "--",
         *unmeasured_command("-c", "print('started', flush=True); import time; time.sleep(60)")],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    with reaped(process):
        assert process.stdout.readline().startswith("livecov: serving")
        assert process.stdout.readline() == "started\n"
        process.send_signal(signal.SIGHUP)
        assert process.wait(timeout=60) == 129
    result = result_file(project)
    assert (result["exit_status"], result["outcome"]) == (129, "interrupted")
    assert result["failures"][0]["message"] == "interrupted (SIGHUP)"


def test_a_bad_setting_found_before_the_run_still_writes_the_result_file(
    project: Path, capfd
) -> None:
    status = main(["run", "--result-file", "result.json", "--env", "NOEQUALS", "--", "true"])
    assert status == 4
    result = result_file(project)
    assert (result["exit_status"], result["outcome"]) == (4, "usage-error")
    assert result["failures"][0]["message"] == "--env takes KEY=VALUE, not 'NOEQUALS'"


def test_without_result_file_nothing_is_written(project: Path, capfd) -> None:
    assert main(["run", "--env", "NOEQUALS", "--", "true"]) == 4
    assert main(["run", "--no-html", "--app", "branchy:app", "--", "true"]) == 0
    assert not list(project.glob("*.json"))


def test_the_documented_table_is_the_table_livecov_uses() -> None:
    # docs/run.md and docs/reference.md ask the site's build (docs/hooks.py) for the table.
    for page in ("run.md", "reference.md"):
        assert "<!-- livecov:exit-statuses -->" in (REPO / "docs" / page).read_text(), page
    hooks = runpy.run_path(str(REPO / "docs" / "hooks.py"))
    built = hooks["on_page_markdown"]("#### Exit status\n\n<!-- livecov:exit-statuses -->\n")
    section = built.split("#### Exit status", 1)[1]
    rows = re.findall(r"^\| (\S[^|]*?) \| (.*) \(`([a-z-]+)`\) \|$", section, re.MULTILINE)
    assert [(label, name) for label, _, name in rows] == [
        (outcome.label, outcome.name) for outcome in errors.OUTCOMES
    ]
    statuses = [o.status for o in errors.OUTCOMES if o.status >= 0]
    assert len(statuses) == len(set(statuses))  # one meaning per status


@pytest.fixture
def guarded_signals():
    """Stand-ins for pytest's own handlers while livecov runs in this process: if livecov
    failed to take a stop signal over, the signal lands here and the test fails, instead of
    ending the whole session."""
    reached: list[int] = []
    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda signum, frame: reached.append(signum))
                for sig in stop_signals}  # fmt: skip
    yield reached
    for sig, handler in previous.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize(("sig", "status"), [("INT", 130), ("TERM", 143), ("HUP", 129)])
def test_a_stop_signal_to_livecov_in_process(
    project: Path, capfd, guarded_signals, sig: str, status: int
) -> None:
    # The command signals its parent: livecov, running in this very process.
    client = (
        "import os, signal, time, urllib.request as u\n"
        "u.urlopen(u.Request(os.environ['LIVE_SERVER_URL'] + '/hello',"
        " headers={'Livecov-Context': 'before-signal'})).read()\n"
        f"os.kill(os.getppid(), signal.SIG{sig})\n"
        "time.sleep(60)\n"
    )
    result = main(["run", "--no-html", "--app", "branchy:app", "--json", "r.json", "--",
                   sys.executable, "-c", client])  # fmt: skip
    assert result == status
    assert guarded_signals == []  # livecov took it, not the stand-in
    assert f"livecov: interrupted (SIG{sig})" in capfd.readouterr().err
    assert not (project / "r.json").exists()  # no report for a stopped run
    data = coverage.CoverageData(str(project / ".coverage"))
    data.read()
    assert "before-signal" in data.measured_contexts()  # saved, not lost


def test_a_second_signal_while_the_server_stops_in_process(
    project: Path, capfd, guarded_signals, monkeypatch
) -> None:
    # The server ignores the SIGTERM that stops it and says so; the moment livecov shows
    # that line, livecov itself gets SIGTERM: it is then waiting for the server to stop.
    # Once only: the server says it again when livecov, stopping, closes its lifeline, and
    # a signal then would land anywhere in livecov's cleanup.
    signalled = []

    def show(passage: runner.CommandOutput, line: str) -> None:
        if line == "ignoring SIGTERM" and not signalled:
            signalled.append(line)
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(runner.CommandOutput, "server_line", show)
    status = main(["run", "--no-html", "--app", "failing:create_loud_stubborn_app",
                   "--stop-timeout", "60", "--", "true"])  # fmt: skip
    assert status == 143
    assert guarded_signals == []
    assert "livecov: interrupted (SIGTERM)" in capfd.readouterr().err


@pytest.mark.parametrize(("sig", "status"), [("INT", 130), ("TERM", 143)])
def test_a_stop_signal_before_anything_started_is_an_interruption_in_process(
    project: Path, capfd, guarded_signals, monkeypatch, sig: str, status: int
) -> None:
    # The signal arrives before the server exists (while the settings become its options):
    # it leaves the whole pipeline, not one of its steps. (The test above reaches that
    # handler too, but only when the signal lands at the right moment of a loaded machine.)
    server_options = runner.server_options

    def options_then_signal(settings):
        options = server_options(settings)
        signal.raise_signal(getattr(signal, f"SIG{sig}"))
        return options

    monkeypatch.setattr(runner, "server_options", options_then_signal)
    assert main(["run", "--no-html", "--app", "branchy:app", "--", "true"]) == status
    assert guarded_signals == []
    err = capfd.readouterr().err
    assert f"livecov: interrupted (SIG{sig})" in err
    assert "serving" not in err  # no server was started


@pytest.mark.parametrize(("sig", "status"), [("INT", 130), ("TERM", 143)])
def test_a_stop_signal_as_the_command_starts_still_stops_it_in_process(
    project: Path, capfd, guarded_signals, monkeypatch, sig: str, status: int
) -> None:
    # The signal arrives at the worst moment: the command's process exists, but livecov has
    # not yet reached the code that stops it. raise_signal runs the handler right here.
    started = []
    start_command = runner._start_command

    def start_then_signal(command: list[str], env: dict[str, str], passage):
        process = start_command(command, env, passage)
        started.append(process)
        signal.raise_signal(getattr(signal, f"SIG{sig}"))
        return process

    monkeypatch.setattr(runner, "_start_command", start_then_signal)
    try:
        result = main(["run", "--no-html", "--app", "branchy:app", "--stop-timeout", "10",
                       "--", "sleep", "300"])  # fmt: skip
        assert result == status
        assert guarded_signals == []
        assert f"livecov: interrupted (SIG{sig})" in capfd.readouterr().err
        (command,) = started
        assert command.returncode == -getattr(signal, f"SIG{sig}")  # stopped by livecov
        assert not pid_alive(command.pid)
    finally:
        for process in started:  # pragma: no cover - only when livecov left it running
            if process.poll() is None:
                process.kill()
                process.wait(timeout=60)


def test_what_the_command_leaves_running_is_stopped_in_process(project: Path, capfd) -> None:
    status = main(["run", "--no-html", "--app", "branchy:app", "--",
                   "sh", "-c", "sleep 300 & echo $! > leftover.pid"])  # fmt: skip
    assert status == 0
    pid = int((project / "leftover.pid").read_text())
    assert not pid_alive(pid)


# Declared elsewhere on purpose: no error a user meets as such.
NOT_ERRORS = [
    "affected/changes.py:ReachesEveryTest",  # control flow inside the selection
    "client.py:HTTPStatusError",  # mirrors httpx's, so a user's except catches either
    "runner.py:Stopped",  # a stop signal unwinding the run (a BaseException, as Ctrl-C)
]


def test_every_error_livecov_raises_is_declared_in_errors_py() -> None:
    """One catalogue: an exception class declared anywhere else would have no row, no exit
    status and no place in the documentation's table."""
    source = Path(errors.__file__).parent
    declared = []
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", "").endswith(("Error", "Exception")) for base in node.bases
            ):
                declared.append(f"{path.relative_to(source)}:{node.name}")
    assert [d for d in declared if not d.startswith("errors.py:")] == NOT_ERRORS
    assert "errors.py:NotCoverageDataError" in declared
