"""The server's output is the user's: shown as it comes, each line marked, nothing lost when the
server dies, silenced on request, attached to the failing test under pytest; failed requests
counted at the end, and an unhandled exception fails the run unless told otherwise."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import pty
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from livecov.cli import main
from livecov.output import CommandOutput, LineBuffer, ServerOutput, first_exception
from livecov.server.app_errors import AppErrorLog
from tests.livecov.helpers import APPS, reaped, unmeasured_command

BACKENDS = ["werkzeug", "waitress", "gunicorn"]


def client(*paths: str) -> list[str]:
    """A command that requests ``paths`` in order and passes whatever they answer."""
    code = (
        "import os, sys, urllib.request as u\n"
        "for path in sys.argv[1:]:\n"
        "    try: u.urlopen(os.environ['LIVE_SERVER_URL'] + path).read()\n"
        "    except OSError as e: print(path, e)\n"
    )
    return [sys.executable, "-c", code, *paths]


def test_lines_reach_the_user_as_they_come_marked_as_the_servers(project: Path) -> None:
    # The command waits until the test has seen the server's line on livecov's stderr:
    # the run only ends if the line came while the command was still running.
    command = [
        sys.executable, "-c",
        "import os, sys, urllib.request as u\n"
        "u.urlopen(os.environ['LIVE_SERVER_URL'] + '/print?while-running').read()\n"
        "sys.stdin.readline()\n",
    ]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "livecov", "run", "--app", "failing:app", "--no-html", "--",
         *command],
        cwd=project, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    seen: list[str] = []
    with reaped(process):
        for line in process.stderr:
            seen.append(line)
            if line == "[live-server] and on stderr while-running\n":
                process.stdin.write("go on\n")
                process.stdin.flush()
                break
        assert process.wait(timeout=60) == 0
    assert "[live-server] the app says while-running\n" in seen  # stdout and stderr alike


class Writes(io.StringIO):
    """A stream that keeps each write() apart."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def test_livecovs_own_lines_go_out_whole_while_the_server_runs(project: Path, monkeypatch) -> None:
    # Unbuffered (PYTHONUNBUFFERED=1), a line split over two writes let a server line,
    # written meanwhile to the same log, land inside it: "... (werkzeug)[live-server] ...".
    writes = Writes()
    monkeypatch.setattr(sys, "stdout", writes)
    status = main(["run", "--app", "failing:app", "--no-html", "--", "true"])
    assert status == 0
    serving = [call for call in writes.calls if call.startswith("livecov: serving")]
    assert len(serving) == 1
    assert re.fullmatch(
        r"livecov: serving failing:app at http://127\.0\.0\.1:\d+ \(werkzeug\)\n", serving[0]
    )


def test_nothing_is_lost_when_the_server_dies(project: Path, capfd) -> None:
    status = main(["run", "--app", "failing:app", "--no-html", "--", *client("/print-then-die")])
    err = capfd.readouterr().err
    assert status == 3
    assert "[live-server] last words before SIGKILL" in err
    assert err.index("last words") < err.index("livecov: the server died during the run")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_request_prints_its_traceback_and_is_counted(
    project: Path, capfd, backend: str
) -> None:
    status = main(
        ["run", "--app", "failing:app", "--server", backend, "--workers", "1", "--no-html",
         "--result-file", "r.json", "--", *client("/hello", "/raise", "/unavailable", "/chained")]
    )  # fmt: skip

    err = capfd.readouterr().err
    assert status == 6  # the command passed, but the app raised
    assert (
        "[live-server] Exception on GET /raise (Livecov-Context: live-server):\n"
        "[live-server] Traceback (most recent call last):\n"
        f'[live-server]   File "{project / "failing.py"}", line 15, in app\n'
    ) in err
    assert "src/livecov" not in err  # only the app's frames
    assert err.splitlines()[-1] == (
        "livecov: the app answered 3 requests with a 5xx (the first: 500 for GET /raise); "
        "first exception: ZeroDivisionError: division by zero "
        "(--no-fail-on-app-errors lets the run pass)"
    )
    result = json.loads((project / "r.json").read_text())
    assert result["app_errors"] == {
        "count": 3,
        "first_exception": "ZeroDivisionError: division by zero",
    }


def test_the_flag_lets_a_run_with_app_errors_pass_and_still_says_so(project: Path, capfd) -> None:
    status = main(
        ["run", "--app", "failing:app", "--no-html", "--no-fail-on-app-errors", "--",
         *client("/chained")]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert status == 0
    assert err.splitlines()[-1] == (
        "livecov: the app answered 1 request with a 5xx (the first: 500 for GET /chained); "
        "first exception: ValueError: while handling a KeyError"
    )


def test_an_exception_the_app_handles_itself_still_fails_the_run(project: Path, capfd) -> None:
    # As Flask does: it answers 500 itself and hands the exception to start_response.
    status = main(["run", "--app", "failing:app", "--no-html", "--", *client("/handled")])
    assert status == 6
    assert "first exception: ValueError: handled by the app" in capfd.readouterr().err


def test_a_500_without_an_exception_still_fails_the_run(project: Path, capfd) -> None:
    status = main(["run", "--app", "failing:app", "--no-html", "--", *client("/bare-500")])
    assert status == 6
    assert capfd.readouterr().err.splitlines()[-1] == (
        "livecov: the app answered 1 request with a 5xx (the first: 500 for GET /bare-500); "
        "first exception: none printed (--no-fail-on-app-errors lets the run pass)"
    )


def test_a_5xx_the_app_chose_is_counted_not_failed(project: Path, capfd) -> None:
    requests = client("/unavailable", "/unavailable")
    status = main(["run", "--app", "failing:app", "--no-html", "--", *requests])
    assert status == 0
    assert capfd.readouterr().err.splitlines()[-1] == (
        "livecov: the app answered 2 requests with a 5xx (the first: 503 for GET /unavailable); "
        "first exception: none printed"
    )


def test_the_setting_silences_the_server_but_not_its_failure(project: Path, capfd) -> None:
    (project / "pyproject.toml").write_text("[tool.livecov]\nserver-output = false\n")
    status = main(["run", "--app", "failing:app", "--no-html", "--", *client("/print?x")])
    assert status == 0
    assert "[live-server]" not in capfd.readouterr().err

    status = main(["run", "--app", "broken:app", "--no-server-output", "--", "true"])
    err = capfd.readouterr().err
    assert status == 3
    assert "[live-server]" not in err
    assert "livecov: the server's output:\nTraceback (most recent call last):" in err


def test_a_silenced_server_dying_shows_its_last_lines(project: Path, capfd) -> None:
    status = main(
        ["run", "--app", "failing:app", "--no-html", "--no-server-output", "--",
         *client("/print-then-die")]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert status == 3
    assert "livecov: the server's output:\nlast words before SIGKILL" in err


PYTEST_PROJECT = """\
import urllib.request, pytest

def get(live_server, path):
    try:
        return urllib.request.urlopen(live_server.url + path).read().decode()
    except OSError as error:
        return str(error)

def test_passes(live_server):
    assert get(live_server, "/print?from-the-passing-test") == "ok"

def test_fails(live_server):
    assert get(live_server, "/raise") == "ok"

def test_ignores_the_500(live_server):
    get(live_server, "/raise")
"""


def test_pytest_attaches_the_output_to_the_test_that_made_the_request(
    pytester: pytest.Pytester,
) -> None:
    shutil.copy(APPS / "failing.py", pytester.path)
    pytester.makefile(".toml", pyproject='[tool.livecov]\napp = "failing:app"\n')
    pytester.makepyfile(test_inline=PYTEST_PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cov", "-rP", timeout=120)

    result.assert_outcomes(passed=1, failed=2)
    text = result.stdout.str()
    passing = text.split("_ test_passes _", 1)[1].split("=====", 1)[0]
    failing = text.split("_ test_fails _", 1)[1].split("=====", 1)[0]
    assert "Captured live server call" in failing
    assert "Exception on GET /raise" in failing
    assert "ZeroDivisionError: division by zero" in failing
    assert "from-the-passing-test" not in failing
    assert "the app says from-the-passing-test" in passing
    assert "ZeroDivisionError" not in passing
    # A test that passed although the app raised fails, as with Flask's or Django's client.
    result.stdout.fnmatch_lines(
        [
            "*_ test_ignores_the_500 _*",
            "livecov: the app answered 1 request with a 5xx during this test (the first: 500 "
            "for GET /raise); first exception: ZeroDivisionError: division by zero "
            "(fail_on_app_errors = false lets it pass)",
        ]
    )


def test_pytest_settings_silence_the_output_and_let_app_errors_pass(
    pytester: pytest.Pytester,
) -> None:
    shutil.copy(APPS / "failing.py", pytester.path)
    pytester.makefile(
        ".toml",
        pyproject='[tool.livecov]\napp = "failing:app"\nserver_output = false\n'
        "fail_on_app_errors = false\n",
    )
    pytester.makepyfile(test_inline=PYTEST_PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cov", timeout=120)
    result.assert_outcomes(passed=2, failed=1)
    assert "Captured live server" not in result.stdout.str()


def test_the_first_exception_is_the_last_line_of_the_first_traceback() -> None:
    chained = (
        "[2026-01-01] ERROR in app: Exception on /x [GET]\n"
        "Traceback (most recent call last):\n"
        '  File "app.py", line 3, in view\n'
        "    {}['k']\n"
        "    ^^^^^^^\n"
        "KeyError: 'k'\n"
        "\n"
        "During handling of the above exception, another exception occurred:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "app.py", line 5, in view\n'
        "ValueError: first\n"
        "a line of something else\n"
        "Traceback (most recent call last):\n"
        "OSError: second\n"
    )
    assert first_exception(chained) == "ValueError: first"
    assert first_exception("no traceback here\n") is None
    assert first_exception("Traceback (most recent call last):\n") is None
    assert first_exception("Traceback (most recent call last):\nKeyError: 'x'") == "KeyError: 'x'"


def test_a_failed_request_is_recorded_with_the_exceptions_own_line_for_its_user_only(
    tmp_path: Path,
) -> None:
    noted = ValueError("the value")
    noted.add_note("a note the app added")  # printed after the exception's line
    try:
        compile("x y", "view.py", "exec")
    except SyntaxError as exc:  # printed after the line in error and its caret
        syntax = exc
    log = AppErrorLog(str(tmp_path / "app-errors.jsonl"))
    for exception in (noted, syntax):
        log.record(500, {"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, "test_x", exception)

    lines = (tmp_path / "app-errors.jsonl").read_text().splitlines()
    assert [json.loads(line)["exception"] for line in lines] == [
        "ValueError: the value",
        "SyntaxError: invalid syntax",
    ]
    # What the requests were and which tests made them: not for other users to read.
    assert stat.S_IMODE((tmp_path / "app-errors.jsonl").stat().st_mode) == 0o600


def test_the_pump_hands_on_every_line_even_without_a_last_newline(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    seen = LineBuffer()
    later: list[str] = []
    output = ServerOutput(read_fd, tmp_path / "log", [seen.add])
    assert output.drain()  # nothing said yet: nothing to wait for
    output.add_listener(later.append)
    os.write(write_fd, b"one\r\ntw")
    assert output.drain()
    assert seen.take() == ["one"]  # "tw" is not a line yet
    output.remove_listener(later.append)
    os.write(write_fd, b"o\nthree")
    os.close(write_fd)  # the end: "three" is a line too
    output.close()
    with pytest.raises(OSError):  # the pipe is released
        os.fstat(read_fd)
    assert seen.take() == ["two", "three"]
    assert later == ["one"]
    assert (tmp_path / "log").read_bytes() == b"one\r\ntwo\nthree"  # the log keeps it all


def test_draining_gives_up_after_its_timeout(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    release = threading.Event()
    output = ServerOutput(read_fd, tmp_path / "log", [lambda line: release.wait(30)])
    os.write(write_fd, b"a listener that blocks\n")
    assert output.drain(timeout=0.1) is False  # still busy with that line
    release.set()
    assert output.drain()
    os.close(write_fd)
    output.close()
    assert output.drain()  # after the end, nothing is left to wait for


# --- The server's lines never split a line of the command's output.

MARK = "[live-server] "


@pytest.fixture
def passage(tmp_path: Path):
    """A CommandOutput passing the command's streams on to two files (no terminal: pipes)."""
    with open(tmp_path / "out", "wb") as out, open(tmp_path / "err", "wb") as err:
        passage = CommandOutput(MARK, out.fileno(), err.fileno())
        yield passage
        passage.close()


def shown(tmp_path: Path) -> tuple[bytes, bytes]:
    return (tmp_path / "out").read_bytes(), (tmp_path / "err").read_bytes()


def test_a_server_line_waits_until_the_commands_line_is_complete(
    passage: CommandOutput, tmp_path: Path
) -> None:
    stdout, stderr = passage.command_streams()
    passage.server_line("before the command wrote")  # nothing open: shown at once
    os.write(stdout, b"BEGIN-")
    assert passage.drain()
    passage.server_line("logged meanwhile")
    assert shown(tmp_path) == (b"BEGIN-", MARK.encode() + b"before the command wrote\n")

    os.write(stdout, b"END\nnext ")
    os.write(stdout, b"line\n")
    assert passage.drain()
    out, err = shown(tmp_path)
    assert out == b"BEGIN-END\nnext line\n"
    assert err.endswith(MARK.encode() + b"logged meanwhile\n")  # once the line was complete

    os.write(stderr, b"on stderr, open")  # the same holds for the command's stderr
    assert passage.drain()
    passage.server_line("held again")
    assert shown(tmp_path)[1].endswith(b"on stderr, open")
    os.close(stdout)
    os.close(stderr)  # the command ended mid-line: its line is ended before the server's
    passage.close()
    assert shown(tmp_path)[1].endswith(b"on stderr, open\n" + MARK.encode() + b"held again\n")


def test_a_leftover_writer_does_not_hold_the_servers_lines_back(
    passage: CommandOutput, tmp_path: Path
) -> None:
    stdout, stderr = passage.command_streams()
    os.close(stderr)
    os.write(stdout, b"a daemon's open line")
    assert passage.drain()
    passage.server_line("stopping")
    passage.close(timeout=0)  # a child of the command outlived it, holding stdout
    assert shown(tmp_path)[1] == MARK.encode() + b"stopping\n"
    os.close(stdout)


# A child of the command that leaves its process group (a session of its own): livecov
# cannot stop it, and it keeps the command's output open.
ESCAPES = """\
import subprocess
escaped = subprocess.Popen(["sleep", "300"], start_new_session=True)
open("escaped.pid", "w").write(str(escaped.pid))
"""


def test_livecov_ends_although_an_escaped_child_still_holds_the_commands_output(
    project: Path,
) -> None:
    (project / "escapes.py").write_text(ESCAPES)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "livecov", "run", "--app", "branchy:app", "--no-html",
             "--", *unmeasured_command("escapes.py")],
            cwd=project, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    finally:
        with contextlib.suppress(ProcessLookupError, FileNotFoundError):
            os.kill(int((project / "escaped.pid").read_text()), signal.SIGKILL)


def test_on_a_terminal_the_command_writes_to_a_terminal_of_the_same_size() -> None:
    terminal, user_side = pty.openpty()  # livecov's stdout and stderr: a terminal
    fcntl.ioctl(user_side, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 99, 0, 0))
    passage = CommandOutput(MARK, user_side, user_side)
    try:
        stdout, stderr = passage.command_streams()
        assert os.isatty(stdout)
        assert os.isatty(stderr)
        size = fcntl.ioctl(stdout, termios.TIOCGWINSZ, b"\0" * 8)
        assert struct.unpack("HHHH", size)[:2] == (33, 99)
        os.write(stdout, b"through\n")
        os.close(stdout)
        os.close(stderr)  # the terminal's end: reading it says EIO, taken as the end
        passage.close()
        assert os.read(terminal, 1024) == b"through\r\n"  # one \r: the user's terminal's
    finally:
        os.close(terminal)
        os.close(user_side)


PARTIAL_LINE_CLIENT = (
    "import os, sys, urllib.request as u\n"
    "sys.stdout.write('BEGIN-'); sys.stdout.flush()\n"
    "u.urlopen(os.environ['LIVE_SERVER_URL'] + '/print?meanwhile').read()\n"
    "sys.stdout.write('END\\n'); sys.stdout.flush()\n"
)


def test_livecov_run_shows_the_command_and_the_server_line_by_line(project: Path) -> None:
    # stdout and stderr to one pipe, as on a terminal.
    done = subprocess.run(
        [sys.executable, "-m", "livecov", "run", "--app", "failing:app", "--no-html", "--",
         sys.executable, "-c", PARTIAL_LINE_CLIENT],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert "BEGIN-END" in lines
    assert "[live-server] the app says meanwhile" in lines
    assert "[live-server] and on stderr meanwhile" in lines
