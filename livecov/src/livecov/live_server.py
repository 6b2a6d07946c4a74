"""Serve a WSGI or ASGI app as a real HTTP server in its own process, under coverage.

>>> with LiveServer(ServerOptions(app="flaskr:create_app"), coverage_config) as server:
...     urllib.request.urlopen(server.url + "/hello")
>>> server.data_files   # the coverage data the server saved

The server runs in its own session (process group), so it never sees the terminal's
Ctrl-C and can always be stopped as a whole. Readiness comes from the server itself: it
writes its URL on a pipe once its socket listens; nothing here sleeps or parses a banner.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from coverage.config import CoverageConfig

from livecov.control import TMPDIR_ENV, post_control
from livecov.cores import CoreChoice, choose_core
from livecov.coverage_data import read_data
from livecov.errors import (
    EXIT_USAGE,
    ConfigError,
    CoverageLostError,
    ServerConfigError,
    ServerDiedError,
    ServerStartError,
)
from livecov.measure import SERVER_DATA_BASENAME
from livecov.output import Listener, ServerOutput
from livecov.processes import kill_group
from livecov.protocol import DEFAULT_CONTEXT
from livecov.run_folders import make_run_folder, record_processes

# auto: werkzeug for a WSGI app, uvicorn for an ASGI app (the server process tells them apart).
SERVERS = ("auto", "werkzeug", "waitress", "gunicorn", "uvicorn")
# The servers that serve from one process only (auto too, for a WSGI app: the server says).
SINGLE_PROCESS = ("werkzeug", "waitress")

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

# The module each backend serves with, imported in the server before coverage starts
# (see preimported_modules).
BACKEND_MODULES = {
    "werkzeug": "werkzeug.serving",
    "waitress": "waitress",
    "gunicorn": "gunicorn.app.base",
    "uvicorn": "uvicorn",
    # auto: the kind of app is known only once it is loaded, under measurement; werkzeug
    # serves the WSGI apps that are most of them (an ASGI app's server pays one import).
    "auto": "werkzeug.serving",
}

# Inherited variables that would make coverage start a second time in the server.
_COVERAGE_AUTOSTART_VARS = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")
# no-sysmon-context: coverage.py's warning that sysmon alone would lose contexts; in the
# server livecov re-arms sys.monitoring at each switch (livecov.server.measuring.events_rearm).
_QUIET_WARNINGS = (
    "no-data-collected",
    "module-not-imported",
    "module-not-measured",
    "no-sysmon-context",
)
_LOG_TAIL_LINES = 60
APP_ERRORS_BASENAME = "app-errors.jsonl"
# Servers whose process may run or whose temporary folder may exist: atexit ends both.
_running: set[LiveServer] = set()


@dataclass
class ServerOptions:
    """How to serve the app. Field names match the ``[tool.livecov]`` settings."""

    app: str
    server: str = "auto"
    # Server processes; None: the server's default (gunicorn 2, the others 1). werkzeug and
    # waitress serve from one process (waitress with threads): more are refused.
    workers: int | None = None
    threads: int = 4
    host: str = "127.0.0.1"
    port: int = 0
    setup: str | None = None
    reset: str | None = None
    # A hook run in every server process before it listens, under live-server: it loads
    # what the app would load on its first request (Django's URLconf is loaded anyway).
    warmup: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Folders put first on the server's PYTHONPATH (a src layout: ["src"]).
    pythonpath: list[str] = field(default_factory=list)
    contexts: bool = True
    startup_timeout: float = 30.0
    stop_timeout: float = 15.0
    cwd: str | None = None
    # How long a server whose parent is gone may take to stop gracefully (it is sent
    # SIGTERM) before it is killed, workers and all.
    orphan_grace: float = 5.0

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise ConfigError(f"unknown server {self.server!r}; choose one of {', '.join(SERVERS)}")
        if not self.host.startswith("127.") and self.host not in ("localhost", "::1"):
            raise ConfigError(f"the test server listens on loopback only, not {self.host!r}")
        if self.workers is not None and self.workers > 1 and self.server in SINGLE_PROCESS:
            raise ConfigError(
                f"{self.server} serves from one process, not {self.workers}: for several "
                "worker processes use --server gunicorn (or uvicorn, for an ASGI app)"
                + (", or --threads" if self.server == "waitress" else "")
            )

    @property
    def processes(self) -> int:
        """How many worker processes serve the app (``workers``, or the server's default)."""
        if self.workers is not None:
            return self.workers
        return 2 if self.server == "gunicorn" else 1


def preimported_modules(server: str, config: CoverageConfig) -> list[str]:
    """What the server process imports before it starts measuring: the backend's module.

    The tracer slows every import it sees; a backend that is not measured need not be
    imported under it. Unless the run's ``source`` (or ``source_pkgs``) names the backend's
    package: then its import-time lines are measured like any others.
    """
    module = BACKEND_MODULES.get(server)
    if module is None:
        return []
    package = module.partition(".")[0]
    named = [*(config.source or []), *(config.source_pkgs or [])]
    if any(entry.partition(".")[0] == package or Path(entry).name == package for entry in named):
        return []
    return [module]


def _json_ready(config: CoverageConfig) -> CoverageConfig:
    """``config``, its sets made lists. coverage.py keeps an option as its caller gave it,
    and a Coverage object built in code may give a set (pytest-testmon's ``omit`` is one),
    which its JSON serialization cannot write."""
    sets = {k: v for k, v in vars(config).items() if isinstance(v, set | frozenset)}
    if not sets:
        return config
    ready = copy.copy(config)
    for name, value in sets.items():
        setattr(ready, name, sorted(value))
    return ready


def server_coverage_config(
    base: CoverageConfig,
    data_dir: Path,
    server: str,
    core: str | None = None,
    processes: int = 1,
    contexts: bool = True,
) -> str:
    """The run's coverage configuration, adjusted for the server process, serialized.

    Everything that decides what is measured (source, branch, omit, plugins, ...) stays
    exactly as the run has it, so the server's data always combines with the tests'.
    ``core``, when given, is the coverage core to measure with (see :mod:`livecov.cores`);
    its workers, forked or spawned, start from this same configuration.
    """
    config = CoverageConfig.deserialize(_json_ready(base).serialize())
    config.core = core or config.core
    config.data_file = str(data_dir / SERVER_DATA_BASENAME)
    config.parallel = True
    config.dynamic_context = None  # livecov switches contexts itself, per request
    # Without per-request contexts, every line is the server's: under live-server, not
    # under "", the test process's context outside any test (see BOOTSTRAP).
    config.context = None if contexts else DEFAULT_CONTEXT
    config.sigterm = False  # the server handles SIGTERM itself, then saves
    # A gunicorn master imports no app code: its "no data" warnings are only noise.
    config.disable_warnings = sorted({*config.disable_warnings, *_QUIET_WARNINGS})
    if server == "gunicorn" or processes > 1:
        config.patch = sorted({*config.patch, "fork"})  # each worker measures itself
    return config.serialize()


class LiveServer:
    """One live test server process (and its workers)."""

    def __init__(
        self,
        options: ServerOptions,
        coverage_config: CoverageConfig | None = None,
        workdir: str | Path | None = None,
        on_output: Listener | None = None,
    ) -> None:
        self.options = options
        self.coverage_config = coverage_config
        # The coverage core the server measures with, and what to tell the user about it.
        self.core_choice = (
            CoreChoice()
            if coverage_config is None
            else choose_core(coverage_config, options.contexts)
        )
        self.token = secrets.token_urlsafe(32)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else make_run_folder()
        if self._own_workdir:
            _running.add(self)  # removed at exit if the caller never cleans up
        self.data_dir = self.workdir / "data"
        self.tmpdir = self.workdir / "app"
        self.log_path = self.workdir / "server.log"
        self.app_errors_path = self.workdir / APP_ERRORS_BASENAME
        self.on_output = on_output
        self.server_output: ServerOutput | None = None
        self.url = ""
        self.backend = ""  # the server that serves the app (auto: as the server chose)
        self.worker_pids: list[int] = []  # the processes serving it, as they reported
        self.started = False
        self.process: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None  # the write end of the lifeline pipe, while open
        self.data_files: list[Path] = []
        self.startup_seconds = 0.0
        self.stop_seconds = 0.0

    # -- starting ---------------------------------------------------------------
    def start(self) -> str:
        """Start the server; return its URL once it listens. Raises ServerStartError."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        # The lifeline: this process keeps the only write end and never writes. When it
        # is gone, however it died (even SIGKILL), the server reads EOF and stops.
        lifeline_fd, self._lifeline = os.pipe()
        output_fd, output_write_fd = os.pipe()
        began = time.monotonic()
        try:
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-c", BOOTSTRAP],
                    pass_fds=[write_fd, lifeline_fd],
                    stdin=subprocess.DEVNULL,
                    stdout=output_write_fd,
                    stderr=output_write_fd,
                    env=self._environment(write_fd, lifeline_fd),
                    cwd=self.options.cwd,
                    start_new_session=True,
                )
            except OSError as exc:  # e.g. a cwd that does not exist
                os.close(output_fd)
                raise ServerStartError(f"could not start the server process: {exc}", "") from None
            finally:
                os.close(write_fd)  # only the server writes: EOF means it is gone
                os.close(lifeline_fd)
                os.close(output_write_fd)
            if self._own_workdir:  # the folder is abandoned only once the server is gone too
                record_processes(self.workdir, [os.getpid(), self.process.pid])
            listeners = [self.on_output] if self.on_output else []
            self.server_output = ServerOutput(output_fd, self.log_path, listeners)
            _running.add(self)
            self.url = self._wait_until_ready(read_fd)
            self.started = True
        except BaseException:
            self._kill()
            raise
        finally:
            os.close(read_fd)
        self.startup_seconds = time.monotonic() - began
        return self.url

    def _environment(self, ready_fd: int, lifeline_fd: int) -> dict[str, str]:
        opts = self.options
        env = {k: v for k, v in os.environ.items() if k not in _COVERAGE_AUTOSTART_VARS}
        env[TMPDIR_ENV] = str(self.tmpdir)
        env.update({k: v.format(tmpdir=self.tmpdir) for k, v in opts.env.items()})
        if opts.pythonpath:
            inherited = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
            env["PYTHONPATH"] = os.pathsep.join([*opts.pythonpath, *inherited])
        env["PYTHONUNBUFFERED"] = "1"
        spec = {
            "app": opts.app,
            "token": self.token,
            "ready_fd": ready_fd,
            "lifeline_fd": lifeline_fd,
            "tmpdir": str(self.tmpdir),
            "server": opts.server,
            "host": opts.host,
            "port": opts.port,
            "workers": opts.processes,
            "control_dir": str(self.workdir / "workers"),
            "threads": opts.threads,
            "setup": opts.setup,
            "reset": opts.reset,
            "warmup": opts.warmup,
            # Contexts are coverage's: without a measurement there is nothing to label.
            "contexts": opts.contexts and self.coverage_config is not None,
            "orphan_grace": opts.orphan_grace,
            "app_errors_file": str(self.app_errors_path),
        }
        env["LIVECOV_SPEC"] = json.dumps(spec)
        if self.coverage_config is not None:
            preimport = preimported_modules(opts.server, self.coverage_config)
            env["LIVECOV_PREIMPORT"] = " ".join(preimport)
            env["LIVECOV_COVERAGE"] = server_coverage_config(
                self.coverage_config,
                self.data_dir,
                opts.server,
                self.core_choice.core,
                opts.processes,
                opts.contexts,
            )
        return env

    def _expected_ready_lines(self) -> int:
        return self.options.processes  # each worker process reports once it serves

    def _wait_until_ready(self, read_fd: int) -> str:
        deadline = time.monotonic() + self.options.startup_timeout
        buffer = b""
        while buffer.count(b"\n") < self._expected_ready_lines():
            remaining = deadline - time.monotonic()
            readable = select.select([read_fd], [], [], max(remaining, 0))[0]
            if not readable:
                self._kill()
                raise ServerStartError(
                    f"the server did not listen within {self.options.startup_timeout:g} s "
                    "(--startup-timeout); it was stopped",
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
        reports = [json.loads(line) for line in buffer.splitlines()]
        self.worker_pids = [report["pid"] for report in reports]
        self.backend = reports[0]["server"]
        url: str = reports[0]["url"]
        return url

    def _refused(self, message: str, status: int) -> ServerStartError:
        """The server said why it cannot serve (a setting, or the app's own code failing)."""
        self._await_exit()
        error = ServerConfigError if status == EXIT_USAGE else ServerStartError
        return error(message, self.output())

    def _await_exit(self) -> None:
        """Let the server end by itself (up to the stop timeout), then end its group."""
        assert self.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=self.options.stop_timeout)
        self._kill()

    def _died_before_ready(self) -> ServerStartError:
        assert self.process is not None
        self._await_exit()
        code = self.process.returncode
        return ServerStartError(
            f"the server exited ({_describe(code)}) before it listened", self.output()
        )

    # -- while running ------------------------------------------------------------
    def post(
        self, action: str, timeout: float = 30.0, context: str | None = None
    ) -> dict[str, str]:
        """POST to a livecov control endpoint (``reset``, ``shutdown``) with the token; the
        lines it runs are recorded under ``context`` (default: ``live-server``)."""
        return post_control(self.url, self.token, action, timeout, context)

    @property
    def resets(self) -> bool:
        """Whether the app has a hook to reset its data with (``reset``, else ``setup``)."""
        return bool(self.options.reset or self.options.setup)

    def reset(self, context: str | None = None) -> None:
        """Run the app's reset hook (fresh data between tests), its lines recorded under
        ``context`` (the test it is for; default: ``live-server``)."""
        self.post("reset", context=context)

    def output(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines the server printed (stdout and stderr together)."""
        self.drain_output()
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def drain_output(self) -> None:
        """Return once the listeners have seen everything the server printed so far."""
        if self.server_output is not None:
            self.server_output.drain()

    def app_errors(self) -> list[dict[str, Any]]:
        """The requests answered with a 5xx so far, oldest first (see livecov.app_errors)."""
        if not self.app_errors_path.exists():
            return []
        lines = self.app_errors_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    # -- stopping -------------------------------------------------------------------
    def stop(self) -> list[Path]:
        """Stop the server gracefully (SIGTERM) so it saves its coverage.

        Returns the data files it wrote. Raises CoverageLostError when the server had
        died already, had to be killed, or wrote no data while coverage was on.
        """
        if self.process is None or not self.started:
            self._kill()
            return []
        process = self.process
        began = time.monotonic()
        killed = False
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=self.options.stop_timeout)
                except subprocess.TimeoutExpired:
                    killed = True
        finally:
            self._kill()  # the whole group, in case workers outlived their master
        self.stop_seconds = time.monotonic() - began
        self.data_files = sorted(self.data_dir.glob(f"{SERVER_DATA_BASENAME}.*"))
        self._check_stopped_cleanly(killed)
        return self.data_files

    def _check_stopped_cleanly(self, killed: bool) -> None:
        assert self.process is not None
        code = self.process.returncode
        if killed:
            raise CoverageLostError(
                f"the server did not stop within {self.options.stop_timeout:g} s of SIGTERM "
                "and was killed: its coverage was lost"
            )
        if code != 0:  # a graceful stop always exits 0
            raise ServerDiedError(
                f"the server died during the run ({_describe(code)}): its coverage was lost"
            )
        if self.coverage_config is not None and not _measured_files(self.data_files):
            raise CoverageLostError(
                "the server stopped but wrote no coverage data: is the app inside the "
                "coverage [run] source?"
            )

    def _kill(self) -> None:
        self._close_lifeline()  # also when the server never started: no descriptor leaks
        process = self.process
        if process is None:
            return
        kill_group(process.pid)  # the server and its workers, until none of them runs
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if self.server_output is not None:  # every writer is gone: read the rest, then close
            self.server_output.close()
            self.server_output = None

    def _close_lifeline(self) -> None:
        # Closed once only: a second close could hit a descriptor reused by someone else.
        # Forgotten before it is closed: a signal handler raising in between (a second
        # Ctrl-C while livecov stops) must not leave it to be closed again by cleanup().
        lifeline, self._lifeline = self._lifeline, None
        if lifeline is not None:
            os.close(lifeline)

    def cleanup(self) -> None:
        """Remove the working directory (server data, temporary app data, log)."""
        self._kill()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        _running.discard(self)

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _measured_files(data_files: list[Path]) -> int:
    """How many source files the data files hold lines for (a flush may leave empty ones)."""
    return sum(len(read_data(path).measured_files()) for path in data_files)


def _describe(code: int | None) -> str:
    """``exit status 1``, or ``killed by SIGKILL``, for a process's return code."""
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


@atexit.register
def _kill_leftover_servers() -> None:
    """At exit, no server of this process runs on, and no temporary folder of theirs is left."""
    for server in list(_running):
        server.cleanup()
