"""Nothing is left behind: whatever way ``livecov run`` ends, no process of the run and no
temporary folder of it remains, and whatever could be saved was saved.

Every process of a run carries a marker in its environment (the server and the command inherit
livecov's), so the check finds them all, grandchildren included, wherever they were re-parented.
These run ``livecov`` as a real process, in a session of its own, with its own TMPDIR.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import coverage
import pytest

from livecov.live_server import SERVERS
from livecov.processes import _live_member_of, group_members, signal_group, stop_group
from tests.livecov.helpers import pid_alive, sighup_default, unmeasured_command

# The app each backend serves in the fault matrix: a backend added to SERVERS needs its app
# here (an ASGI backend, an ASGI app with the routes /hello and /crash of branchy.py).
FAULT_APPS = {
    "auto": "branchy:app",
    "werkzeug": "branchy:app",
    "waitress": "branchy:app",
    "gunicorn": "branchy:app",
    "uvicorn": "branchy_asgi:app",
}

# The command: one request under its own context, a grandchild that would outlive it, then
# READY with the grandchild's pid, then it waits for a line on stdin.
COMMAND = """\
import os, subprocess, sys, urllib.request
request = urllib.request.Request(
    os.environ["LIVE_SERVER_URL"] + "/hello", headers={"Livecov-Context": "before-the-fault"}
)
urllib.request.urlopen(request).read()
grandchild = subprocess.Popen(["sleep", "300"])
print("READY", grandchild.pid, flush=True)
sys.stdin.readline()
"""


# No wait in these tests is unbounded: a process of the run that outlives livecov would
# keep livecov's stdout and stderr open, and a plain read would wait for it (300 s for a
# `sleep 300`). Reads go through Pipe, which gives up after its time with what it has.
WAIT = 60  # seconds: far more than any step needs, even on a loaded machine


class Pipe:
    """A child's output pipe, read line by line, each read bounded by a deadline."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._buffer = b""
        self.ended = False

    def _read(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self._fd], [], [], remaining)[0]:
            raise AssertionError(f"nothing more within its time; so far: {self._buffer!r}")
        chunk = os.read(self._fd, 65536)
        self.ended = not chunk
        self._buffer += chunk

    def line(self, timeout: float = WAIT) -> str | None:
        """The next line (None at the end of the output)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            if self.ended:
                return None
            self._read(deadline)
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode(errors="replace") + "\n"

    def rest(self, timeout: float = WAIT) -> str:
        """Everything up to the end of the output: every writer gone."""
        deadline = time.monotonic() + timeout
        while not self.ended:
            self._read(deadline)
        rest, self._buffer = self._buffer, b""
        return rest.decode(errors="replace")


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    marker: str
    tmpdir: Path
    project: Path
    stdout: Pipe
    stderr: Pipe

    def ready(self) -> int:
        """Wait for the command's READY line; return its grandchild's pid."""
        while (line := self.stdout.line()) is not None:
            if line.startswith("READY "):
                return int(line.split()[1])
        raise AssertionError("the command never got ready: " + self.stderr.rest())

    def finish(self, release: bool = True, timeout: float = 90) -> tuple[int, str]:
        """Let the command end (unless not ``release``); wait for livecov's status."""
        if release:
            self.process.stdin.close()
        status = self.process.wait(timeout=timeout)
        # Once livecov has exited, no process of its run holds its stderr any more.
        return status, self.stderr.rest(timeout=WAIT)


def processes_of(marker: str) -> list[int]:
    """Every live process whose environment carries ``marker``."""
    found = []
    needle = f"LIVECOV_TEST_RUN={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0") and pid_alive(
                int(entry.name)
            ):
                found.append(int(entry.name))
    return found


@contextlib.contextmanager
def livecov_run(project: Path, *arguments: str, command: list[str] | None = None) -> Iterator[Run]:
    (project / "command.py").write_text(COMMAND)
    marker = uuid.uuid4().hex
    tmpdir = project / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "LIVECOV_TEST_RUN": marker, "TMPDIR": str(tmpdir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "livecov", "run", "--no-html", "--stop-timeout", "10", *arguments,
         "--", *(command or unmeasured_command("command.py"))],
        cwd=project, env=env, start_new_session=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    run = Run(process, marker, tmpdir, project, Pipe(process.stdout), Pipe(process.stderr))
    try:
        yield run
    finally:
        for pid in processes_of(marker):  # pragma: no cover - only when a test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:  # pragma: no cover - only when a test fails
            process.kill()
        process.wait(timeout=WAIT)
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
    assert processes_of(marker) == []
    assert list(tmpdir.iterdir()) == []  # the server's temporary folder went too


def saved_contexts(project: Path) -> set[str]:
    """The contexts whose lines the data holds (a server killed before it saved may still
    have written down the contexts it served, which then hold no lines)."""
    path = project / ".coverage"
    if not path.exists():
        return set()
    data = coverage.CoverageData(str(path))
    data.read()
    by_line = [data.contexts_by_lineno(name) for name in data.measured_files()]
    return {context for lines in by_line for names in lines.values() for context in names}


def kill_the_server(run: Run) -> None:
    """SIGKILL the server's whole process group, as the kernel's OOM killer might."""
    for pid in processes_of(run.marker):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"livecov.server.serve" in cmdline:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
            return
    raise AssertionError("no server process found")  # pragma: no cover


# fault: (extra arguments, expected status, whether the data of the request is saved)
FAULTS = {
    "server SIGKILLed": ([], 3, False),
    "livecov SIGINT": ([], 130, True),
    "livecov SIGTERM": ([], 143, True),
    "livecov SIGHUP": ([], 129, True),
    # --timeout counts from the command's start: 5 s is its time to make one request.
    "--timeout": (["--timeout", "5"], 124, True),
    "command not found": ([], 127, False),
    "app import error": ([], 3, False),
    "start-up timeout": (["--startup-timeout", "1"], 3, False),
}
SIGNALS = {
    "livecov SIGINT": signal.SIGINT,
    "livecov SIGTERM": signal.SIGTERM,
    "livecov SIGHUP": signal.SIGHUP,
}


@pytest.mark.parametrize("backend", SERVERS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_matrix(project: Path, fault: str, backend: str) -> None:
    extra, expected, saved = FAULTS[fault]
    app = {"app import error": "broken:app", "start-up timeout": "hang:create_app"}.get(
        fault, FAULT_APPS[backend]
    )
    command = ["no-such-command"] if fault == "command not found" else None
    # Several worker processes where the server has them (werkzeug and waitress refuse them).
    workers = ["--workers", "2"] if backend in ("gunicorn", "uvicorn") else []
    arguments = ["--app", app, "--server", backend, *workers, *extra]
    with sighup_default(), livecov_run(project, *arguments, command=command) as run:
        grandchild = None
        if fault in ("server SIGKILLed", "--timeout") or fault in SIGNALS:
            grandchild = run.ready()
        if fault == "server SIGKILLed":
            kill_the_server(run)
        if fault in SIGNALS:
            run.process.send_signal(SIGNALS[fault])
        status, err = run.finish(release=fault != "--timeout")
        assert status == expected, err
        if grandchild is not None:
            assert not pid_alive(grandchild)
    assert ("before-the-fault" in saved_contexts(project)) is saved


def test_what_the_command_leaves_running_is_stopped_when_it_ends(project: Path) -> None:
    command = ["sh", "-c", "sleep 300 & echo READY $!; exit 0"]
    with livecov_run(project, "--app", "branchy:app", command=command) as run:
        grandchild = run.ready()
        status, err = run.finish()
        assert status == 0, err
        assert not pid_alive(grandchild)


# A shell that ends at SIGTERM, waiting for its child, which ignores SIGTERM (set before it
# says READY, and kept across exec): only SIGKILL ends that one.
IGNORES_SIGTERM = ["sh", "-c", "sh -c \"trap '' TERM; echo READY \\$\\$; exec sleep 300\" & wait"]


def test_a_grandchild_ignoring_sigterm_is_killed_after_the_grace(project: Path) -> None:
    command = IGNORES_SIGTERM
    with livecov_run(
        project, "--app", "branchy:app", "--stop-timeout", "2", command=command
    ) as run:
        grandchild = run.ready()
        run.process.send_signal(signal.SIGTERM)
        status, _ = run.finish()
        assert status == 143
        assert not pid_alive(grandchild)


def test_a_folder_left_by_a_livecov_killed_by_sigkill_goes_with_the_next_run(
    project: Path,
) -> None:
    # SIGKILL: livecov runs nothing more. Its server stops by itself (its lifeline), but
    # the folder stays until the next livecov on this machine sees that none of its
    # processes runs any more. (The command, in a group of its own, runs on: see README.)
    command = ["sh", "-c", "echo READY $$; read line"]
    with livecov_run(project, "--app", "branchy:app", command=command) as run:
        shell = os.pidfd_open(run.ready())
        (server,) = [pid for pid in processes_of(run.marker) if b"livecov.server" in
                     Path(f"/proc/{pid}/cmdline").read_bytes()]  # fmt: skip
        server_exit = os.pidfd_open(server)
        (folder,) = run.tmpdir.iterdir()
        run.process.kill()
        run.process.wait(timeout=WAIT)
        run.process.stdin.close()  # the command reads the end of its input: it ends too
        for process in (server_exit, shell):
            assert select.select([process], [], [], WAIT)[0], "a process of the run went on"
            os.close(process)
        assert (folder / "data").is_dir()  # left behind, with what the server saved
        next_run = subprocess.run(
            [sys.executable, "-m", "livecov", "run", "--no-html", "--app", "branchy:app",
             "--", "true"],
            cwd=project, env={**os.environ, "TMPDIR": str(run.tmpdir)},
            capture_output=True, text=True, timeout=WAIT,
        )  # fmt: skip
        assert next_run.returncode == 0, next_run.stderr
    # livecov_run's own checks: no process of either run, and the TMPDIR empty


# Counts the SIGINTs it gets in a file, ignores them (so only SIGKILL ends it), and starts a
# grandchild; once both run, READY.
COUNTS_SIGINT = """\
import os, signal, subprocess, sys, threading
def count(signum, frame):
    with open("sigints", "a") as f:
        f.write("INT\\n")
signal.signal(signal.SIGINT, count)
grandchild = subprocess.Popen(["sleep", "300"])
print("READY", grandchild.pid, flush=True)
threading.Event().wait()
"""


def test_ctrl_c_at_a_terminal_reaches_the_command_once(project: Path) -> None:
    # livecov runs in a pseudo-terminal, as the foreground process of its session; the
    # terminal's Ctrl-C (^C written to it) goes to the foreground process group.
    (project / "counts.py").write_text(COUNTS_SIGINT)
    marker = uuid.uuid4().hex
    main_fd, terminal_fd = pty.openpty()

    def take_the_terminal() -> None:  # runs after setsid: the terminal becomes its own
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "livecov", "run", "--app", "branchy:app", "--no-html",
         "--stop-timeout", "1", "--", *unmeasured_command("counts.py")],
        cwd=project, env={**os.environ, "LIVECOV_TEST_RUN": marker},
        stdin=terminal_fd, stdout=terminal_fd, stderr=terminal_fd,
        start_new_session=True, preexec_fn=take_the_terminal,
    )  # fmt: skip
    os.close(terminal_fd)
    try:
        screen = b""
        deadline = time.monotonic() + WAIT
        while not (ready := re.search(rb"READY (\d+)\r?\n", screen)):
            remaining = max(deadline - time.monotonic(), 0)
            assert select.select([main_fd], [], [], remaining)[0], f"no READY: {screen!r}"
            screen += os.read(main_fd, 4096)  # the line may come in pieces
        grandchild = int(ready.group(1))
        os.write(main_fd, b"\x03")  # Ctrl-C
        assert process.wait(timeout=60) == 130
    finally:
        for pid in processes_of(marker):  # pragma: no cover - only when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # the command too: it ignores SIGINT
        process.wait(timeout=WAIT)
        os.close(main_fd)
    assert (project / "sigints").read_text() == "INT\n"  # once: not twice, not never
    assert not pid_alive(grandchild)
    assert processes_of(marker) == []


# Starts a server, then ends without stopping it or removing its folder.
FORGETFUL = """\
from livecov import LiveServer, ServerOptions
server = LiveServer(ServerOptions(app="branchy:app"))
server.start()
never_started = LiveServer(ServerOptions(app="branchy:app"))
print(server.workdir, never_started.workdir, server.process.pid, flush=True)
"""


def test_at_exit_servers_and_their_folders_go(project: Path) -> None:
    (project / "forgetful.py").write_text(FORGETFUL)
    finished = subprocess.run(
        [sys.executable, "forgetful.py"], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    started, never_started, pid = finished.stdout.split()
    assert not Path(started).exists()
    assert not Path(never_started).exists()
    assert not pid_alive(int(pid))


def test_a_second_signal_while_the_server_stops_still_leaves_nothing(project: Path) -> None:
    # The server ignores the SIGTERM that stops it; while livecov waits for it, livecov is
    # told to stop too: it ends at once, the server killed, the folder removed.
    arguments = ["--app", "failing:create_loud_stubborn_app", "--stop-timeout", "60"]
    with livecov_run(project, *arguments, command=["true"]) as run:
        while (line := run.stderr.line()) != "[live-server] ignoring SIGTERM\n":
            assert line is not None, "the server never said it ignores SIGTERM"
        run.process.send_signal(signal.SIGTERM)
        status, err = run.finish()
        assert status == 143
        assert "livecov: interrupted (SIGTERM)" in err


def test_a_member_ignoring_sigterm_is_waited_for_during_the_grace_then_killed() -> None:
    # In this process (measured): the leader ends at SIGTERM at once; its child is certainly
    # still there at the first look (only SIGKILL, after the grace, can end it).
    leader = subprocess.Popen(IGNORES_SIGTERM, process_group=0, stdout=subprocess.PIPE)
    try:
        output = Pipe(leader.stdout)
        member = int(output.line().split()[1])
        began = time.monotonic()
        stop_group(leader, signal.SIGTERM, grace=2)
        waited = time.monotonic() - began
        assert leader.returncode == -signal.SIGTERM
        assert group_members(leader.pid) == []
        assert not pid_alive(member)
        assert waited >= 2  # the member had its grace before SIGKILL
        assert output.rest() == ""  # every writer gone: the member too
    finally:
        if group_members(leader.pid):  # pragma: no cover - only when the test fails
            os.killpg(leader.pid, signal.SIGKILL)
        leader.wait(timeout=WAIT)
        leader.stdout.close()


def test_stopping_a_group_that_is_gone_is_harmless() -> None:
    finished = subprocess.Popen(["true"], process_group=0)
    finished.wait()
    assert group_members(finished.pid) == []
    signal_group(finished.pid, signal.SIGTERM)  # no such group any more: nothing happens
    stop_group(finished, signal.SIGTERM, grace=15)  # nor here
    assert finished.returncode == 0
    assert not _live_member_of(Path("/proc/no-such-process"), finished.pid)  # gone meanwhile


def test_a_member_that_has_exited_but_is_not_reaped_yet_no_longer_runs() -> None:
    # A zombie holds its pid (and its group) until its parent reaps it, but runs nothing:
    # a stop waiting for it would wait its whole grace time for nothing.
    exited = subprocess.Popen(["true"], process_group=0)
    try:
        os.waitid(os.P_PID, exited.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped
        assert group_members(exited.pid) == []
    finally:
        exited.wait()
