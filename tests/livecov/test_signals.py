"""Stopping ``livecov run`` itself: Ctrl-C, SIGTERM, and two runs side by side.

These start ``livecov`` as a real process (``python -m livecov``), as a user would.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import coverage
import pytest

from livecov.measure import merge_into_running
from livecov.runner import Stopped, _SignalHold
from tests.livecov.helpers import group_alive, port_closed, reaped, unmeasured_command

# Makes one request under its own context, prints READY with the URL, then waits forever.
CLIENT = """\
import os, sys, threading, urllib.request
url = os.environ["LIVE_SERVER_URL"]
request = urllib.request.Request(url + "/hello", headers={"Livecov-Context": sys.argv[1]})
urllib.request.urlopen(request).read()
print("READY", url, flush=True)
threading.Event().wait()
"""


@contextmanager
def livecov_process(project: Path, context: str, **popen) -> Iterator[subprocess.Popen[str]]:
    (project / "client_wait.py").write_text(CLIENT)
    command = [
        sys.executable, "-m", "livecov", "run", "--app", "branchy:app", "--no-html",
        "--data-file", f".coverage-{context}", "--json", f"report-{context}.json", "--",
        *unmeasured_command("client_wait.py", context),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )
    with reaped(process, group=True):
        yield process


def wait_ready(process: subprocess.Popen[str]) -> str:
    """Read livecov's output until the client says it made its request; return the URL."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("READY "):
            return line.split()[1]
    raise AssertionError(f"livecov ended before the client was ready: {process.stderr.read()}")


def contexts_in(data_file: Path) -> set[str]:
    data = coverage.CoverageData(str(data_file))
    data.read()
    return data.measured_contexts()


@pytest.mark.parametrize(
    ("sig", "name", "status"),
    [(signal.SIGINT, "SIGINT", 130), (signal.SIGTERM, "SIGTERM", 143)],
)
def test_stopping_livecov_stops_everything_and_keeps_the_data(project, sig, name, status):
    with livecov_process(project, "before-stop", start_new_session=True) as process:
        url = wait_ready(process)
        process.send_signal(sig)
        assert process.wait(timeout=60) == status
        err = process.stderr.read()
    assert f"livecov: interrupted ({name})" in err
    assert port_closed(url)  # the server is gone
    assert "before-stop" in contexts_in(project / ".coverage-before-stop")  # nothing lost
    assert not (project / "report-before-stop.json").exists()  # no report for a stopped run


def test_ctrl_c_works_even_when_sigint_was_inherited_as_ignored(project):
    def ignore_sigint() -> None:  # what a non-interactive shell does for `livecov ... &`
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with livecov_process(
        project, "ignored", start_new_session=True, preexec_fn=ignore_sigint
    ) as process:
        url = wait_ready(process)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    assert port_closed(url)
    assert "ignored" in contexts_in(project / ".coverage-ignored")


def test_two_runs_at_once_do_not_interfere(project):
    with (
        livecov_process(project, "first", start_new_session=True) as first,
        livecov_process(project, "second", start_new_session=True) as second,
    ):
        urls = {wait_ready(first), wait_ready(second)}
        assert len(urls) == 2  # each its own server, on its own port
        first.send_signal(signal.SIGTERM)
        second.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 143
        assert second.wait(timeout=60) == 143
    assert "second" not in contexts_in(project / ".coverage-first")
    assert "first" not in contexts_in(project / ".coverage-second")
    assert "first" in contexts_in(project / ".coverage-first")
    assert "second" in contexts_in(project / ".coverage-second")


PARENT = """\
import sys, threading
from pathlib import Path
import coverage
from livecov import LiveServer, ServerOptions

# This suite's measurement when there is one (so the server's code counts), else the
# sample project's settings.
running = coverage.Coverage.current()
config = running.config if running else coverage.Coverage().config
server = LiveServer(ServerOptions(app="branchy:app"), config, workdir=sys.argv[1])
server.start()
print(server.url, server.process.pid, flush=True)
threading.Event().wait()
"""


@pytest.mark.parametrize("module", ["branchy", "branchy_asgi"])  # served by werkzeug, uvicorn
def test_server_stops_by_itself_when_its_parent_is_killed(project: Path, module: str) -> None:
    (project / "parent.py").write_text(PARENT.replace("branchy:", f"{module}:"))
    workdir = project / "work"
    parent = subprocess.Popen(
        [sys.executable, "parent.py", str(workdir)], cwd=project, stdout=subprocess.PIPE, text=True
    )
    try:
        url, pid = parent.stdout.readline().split()
        server_exit = os.pidfd_open(int(pid))  # a handle on a process that is not our child
        parent.kill()  # SIGKILL: no atexit, no finally, nothing runs in the parent
        parent.wait()
        assert select.select([server_exit], [], [], 60)[0], "the server outlived its parent"
    finally:
        if parent.poll() is None:  # pragma: no cover - only when the test fails early
            parent.kill()
    assert port_closed(url)
    saved = list((workdir / "data").glob(".coverage.*"))
    assert saved  # it stopped gracefully: coverage was saved
    data = coverage.CoverageData(str(saved[0]))
    data.read()
    assert data.measured_files()
    if coverage.Coverage.current():
        merge_into_running(saved)


STUBBORN_PARENT = """\
import sys, threading
from livecov import LiveServer, ServerOptions

# A short grace: the server ignores the lifeline's SIGTERM, so it is killed this long after.
server = LiveServer(ServerOptions(app="branchy:create_stubborn_app", orphan_grace=0.1))
server.start()
print(server.url, server.process.pid, flush=True)
if sys.argv[1] == "hang":
    threading.Event().wait()
sys.stdin.read()  # "end": once the test holds a handle on the server, end without stopping it
"""


def _stubborn_parent(project: Path, mode: str, module: str = "branchy") -> subprocess.Popen[str]:
    (project / "stubborn_parent.py").write_text(STUBBORN_PARENT.replace("branchy:", f"{module}:"))
    return subprocess.Popen(
        [sys.executable, "stubborn_parent.py", mode],
        cwd=project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("module", ["branchy", "branchy_asgi"])
def test_a_server_ignoring_sigterm_is_killed_once_its_parent_is_killed(
    project: Path, module: str
) -> None:
    parent = _stubborn_parent(project, "hang", module)
    url, pid = parent.stdout.readline().split()
    server_exit = os.pidfd_open(int(pid))
    try:
        parent.kill()
        parent.wait()
        # SIGTERM from the lifeline is ignored; the grace time later (0.1 s, not the default
        # 5 s: well within this wait) it is killed.
        assert select.select([server_exit], [], [], 4)[0], "the server outlived its parent"
    finally:
        os.close(server_exit)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGKILL)  # only if the test failed
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert port_closed(url)
    assert not group_alive(int(pid))


def test_a_parent_that_ends_without_stopping_its_server_takes_it_along(project: Path) -> None:
    # atexit kills the server before the parent is gone: not a moment of it left running,
    # even though this app would ignore the lifeline's SIGTERM.
    parent = _stubborn_parent(project, "end")
    url, pid = parent.stdout.readline().split()
    server_exit = os.pidfd_open(int(pid))
    try:
        parent.stdin.close()  # now the parent ends
        assert parent.wait(timeout=60) == 0
        assert select.select([server_exit], [], [], 0)[0], "the server was still running"
    finally:
        os.close(server_exit)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGKILL)  # only if the test failed
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert port_closed(url)


def test_signals_held_while_the_command_starts_raise_for_the_first_on_release() -> None:
    """While the command starts, livecov's stop signals are only noted; the release raises
    for the first that came (SIGTERM here, not the SIGINT after it)."""
    hold = _SignalHold()
    hold.hold()
    hold.handler(signal.SIGTERM, None)
    hold.handler(signal.SIGINT, None)

    with pytest.raises(BaseException) as raised:  # not only Stopped: SIGINT's would abort
        hold.release()
    assert isinstance(raised.value, Stopped)
    assert raised.value.signum == signal.SIGTERM
    hold.release()  # released: nothing held, nothing raised
    with pytest.raises(KeyboardInterrupt):
        hold.handler(signal.SIGINT, None)  # no longer held: raised at once
