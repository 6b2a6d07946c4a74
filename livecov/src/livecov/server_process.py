"""The live server's process: started with its pipes, watched until it listens, stopped.

The server runs in its own session (process group), so it never sees the terminal's
Ctrl-C and can always be stopped as a whole, workers included. Readiness comes from the
server itself: each process that serves writes one line on the ready pipe once it listens
(:mod:`livecov.server.handshake`); nothing here sleeps or parses a banner. The lifeline is
a pipe whose only write end this process holds and never writes: however this process
ends, even by SIGKILL, the server reads end-of-file and stops by itself.

Everything the process leaves lives in one folder (its data, the app's temporary files, its
log); :meth:`ServerProcess.cleanup` removes it, and at exit no server of this process runs
on and no folder of theirs is left.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livecov.errors import (
    EXIT_USAGE,
    CoverageLostError,
    ServerConfigError,
    ServerDiedError,
    ServerStartError,
)
from livecov.output import Listener, ServerOutput
from livecov.processes import describe_exit, kill_group
from livecov.run_folders import make_run_folder, record_processes

# Run by ``python -c`` in the server process. Coverage must start before any module of
# livecov or of the app is imported, so this cannot live in a module file of its own; it
# also ends the measurement, so the code that starts coverage is the code that saves it.
BOOTSTRAP = """\
import os
config = os.environ.pop("LIVECOV_COVERAGE", None)
cov = None
if config:
    # The server backend, before measuring starts: the tracer need not run over its import.
    for name in os.environ.pop("LIVECOV_PREIMPORT", "").split():
        try:
            __import__(name)
        except ImportError:
            pass  # the backend itself says what is missing
    import coverage
    cov = coverage.Coverage(config_file=":data:" + config)
    cov.start()
    import json
    if json.loads(os.environ["LIVECOV_SPEC"])["contexts"]:
        # From the first line on: the server records nothing under "", the test process's
        # context outside any test (livecov contexts tells the two apart by name).
        cov.switch_context("live-server")
        # A forked worker (gunicorn's, uvicorn's) measures afresh from the fork on (patch =
        # fork, whose hook runs first): under live-server too, from its first line.
        os.register_at_fork(
            after_in_child=lambda: coverage.Coverage.current().switch_context("live-server")
        )
owner = os.getpid()
try:
    from livecov.server.serve import main
    main()
except KeyboardInterrupt:
    pass
finally:
    if cov and os.getpid() == owner:  # a gunicorn worker saves its own data, not this
        cov.stop()
        cov.save()
"""
# What the bootstrap reads: the coverage configuration, serialized, and the modules to
# import before measuring starts.
COVERAGE_ENV = "LIVECOV_COVERAGE"
PREIMPORT_ENV = "LIVECOV_PREIMPORT"

LOG_TAIL_LINES = 60  # of the server's output, in a start-up error
# The environment of the server, given the descriptors of its ready pipe and lifeline.
Environment = Callable[[int, int], dict[str, str]]
# Server processes that may run, or whose folder may exist: atexit ends both.
_running: set[ServerProcess] = set()


class ServerProcess:
    """One server process and its workers, in a folder of its own (``workdir``: made, and
    removed by :meth:`cleanup`, unless the caller gives one)."""

    def __init__(
        self,
        stop_timeout: float,
        workdir: str | Path | None = None,
        on_output: Listener | None = None,
    ) -> None:
        self.own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else make_run_folder()
        if self.own_workdir:
            _running.add(self)  # removed at exit if the caller never cleans up
        self.data_dir = self.workdir / "data"
        self.tmpdir = self.workdir / "app"
        self.log_path = self.workdir / "server.log"
        self.on_output = on_output
        self.stop_timeout = stop_timeout
        self.popen: subprocess.Popen[bytes] | None = None
        self.started = False  # it said it listens
        self._output: ServerOutput | None = None
        self._lifeline: int | None = None  # the write end of the lifeline pipe, while open

    # -- starting ---------------------------------------------------------------
    def start(
        self, environment: Environment, reports: int, timeout: float, cwd: str | None = None
    ) -> list[dict[str, Any]]:
        """Start the server; return what its ``reports`` serving processes said once they
        all listen (their URL, pid, backend). Raises ServerStartError."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        lifeline_fd, self._lifeline = os.pipe()
        try:
            self._spawn(environment, write_fd, lifeline_fd, cwd)
            _running.add(self)
            said = self._wait_until_ready(read_fd, reports, timeout)
            self.started = True
            return said
        except BaseException:
            self.kill()
            raise
        finally:
            os.close(read_fd)

    def _spawn(
        self, environment: Environment, ready_fd: int, lifeline_fd: int, cwd: str | None
    ) -> None:
        """Start ``python -c BOOTSTRAP`` in a session of its own, its output pumped to the
        log and the listener. Closes this side's ends of the pipes the server inherits: only
        the server writes the ready pipe, so end-of-file there means it is gone."""
        output_fd, output_write_fd = os.pipe()
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", BOOTSTRAP],
                pass_fds=[ready_fd, lifeline_fd],
                stdin=subprocess.DEVNULL,
                stdout=output_write_fd,
                stderr=output_write_fd,
                env=environment(ready_fd, lifeline_fd),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:  # e.g. a cwd that does not exist
            os.close(output_fd)
            raise ServerStartError(f"could not start the server process: {exc}", "") from None
        finally:
            for fd in (ready_fd, lifeline_fd, output_write_fd):
                os.close(fd)
        if self.own_workdir:  # the folder is abandoned only once the server is gone too
            record_processes(self.workdir, [os.getpid(), self.popen.pid])
        listeners = [self.on_output] if self.on_output else []
        self._output = ServerOutput(output_fd, self.log_path, listeners)

    def _wait_until_ready(self, read_fd: int, reports: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        buffer = b""
        while buffer.count(b"\n") < reports:
            remaining = deadline - time.monotonic()
            readable = select.select([read_fd], [], [], max(remaining, 0))[0]
            if not readable:
                self.kill()
                raise ServerStartError(
                    f"the server did not listen within {timeout:g} s (--startup-timeout); "
                    "it was stopped",
                    self.output(),
                )
            chunk = os.read(read_fd, 4096)
            if not chunk:
                raise self._died_before_ready()
            buffer += chunk
            complete = [json.loads(line) for line in buffer.split(b"\n")[:-1]]
            failure = next((report for report in complete if "error" in report), None)
            if failure is not None:  # any worker's refusal (a lifespan start-up that failed)
                raise self._refused(failure["error"], failure["status"])
        return [json.loads(line) for line in buffer.splitlines()]

    def _refused(self, message: str, status: int) -> ServerStartError:
        """The server said why it cannot serve (a setting, or the app's own code failing)."""
        self._await_exit()
        error = ServerConfigError if status == EXIT_USAGE else ServerStartError
        return error(message, self.output())

    def _await_exit(self) -> None:
        """Let the server end by itself (up to the stop timeout), then end its group."""
        assert self.popen is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=self.stop_timeout)
        self.kill()

    def _died_before_ready(self) -> ServerStartError:
        assert self.popen is not None
        self._await_exit()
        code = self.popen.returncode
        return ServerStartError(
            f"the server exited ({describe_exit(code)}) before it listened", self.output()
        )

    # -- while running ------------------------------------------------------------
    def output(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the server printed (stdout and stderr together)."""
        self.drain_output()
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def drain_output(self) -> None:
        """Return once the listeners have seen everything the server printed so far."""
        if self._output is not None:
            self._output.drain()

    # -- stopping -------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), so that it saves its coverage; then make
        sure none of its group runs. Raises CoverageLostError when the server had died
        already or had to be killed. A server that never started is only killed."""
        popen = self.popen
        if popen is None or not self.started:
            self.kill()
            return
        killed = False
        try:
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
                try:
                    popen.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    killed = True
        finally:
            self.kill()  # the whole group, in case workers outlived their master
        if killed:
            raise CoverageLostError(
                f"the server did not stop within {self.stop_timeout:g} s of SIGTERM "
                "and was killed: its coverage was lost"
            )
        if popen.returncode != 0:  # a graceful stop always exits 0
            raise ServerDiedError(
                f"the server died during the run ({describe_exit(popen.returncode)}): "
                "its coverage was lost"
            )

    def kill(self) -> None:
        """End the server's whole group now (SIGKILL), and close this side's pipes."""
        self._close_lifeline()  # also when the server never started: no descriptor leaks
        popen = self.popen
        if popen is None:
            return
        kill_group(popen.pid)  # the server and its workers, until none of them runs
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)
        if self._output is not None:  # every writer is gone: read the rest, then close
            self._output.close()
            self._output = None

    def _close_lifeline(self) -> None:
        # Closed once only: a second close could hit a descriptor reused by someone else.
        # Forgotten before it is closed: a signal handler raising in between (a second
        # Ctrl-C while livecov stops) must not leave it to be closed again by cleanup().
        lifeline, self._lifeline = self._lifeline, None
        if lifeline is not None:
            os.close(lifeline)

    def cleanup(self) -> None:
        """Kill what still runs; remove the folder (server data, temporary app data, log)
        unless the caller gave it."""
        self.kill()
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        _running.discard(self)


@atexit.register
def _kill_leftover_servers() -> None:
    """At exit, no server of this process runs on, and no temporary folder of theirs is left."""
    for server in list(_running):
        server.cleanup()
