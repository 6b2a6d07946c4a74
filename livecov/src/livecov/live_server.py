"""Serve a WSGI or ASGI app as a real HTTP server in its own process, under coverage.

>>> with LiveServer(ServerOptions(app="flaskr:create_app"), coverage_config) as server:
...     urllib.request.urlopen(server.url + "/hello")
>>> server.data_files   # the coverage data the server saved, beside the run's data file

What to serve and how (:class:`ServerOptions`), and :class:`LiveServer`, which serves it
measured (:mod:`livecov.server_coverage`). The process itself is a
:class:`~livecov.server_process.ServerProcess`, its control endpoints a
:class:`~livecov.control.ControlClient`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from coverage.config import CoverageConfig

from livecov.control import CONTROL_TIMEOUT, TMPDIR_ENV, ControlClient
from livecov.cores import CoreChoice, choose_core
from livecov.coverage_data import read_data
from livecov.errors import ConfigError, CoverageLostError
from livecov.features import register_data_steps
from livecov.measure import SERVER_DATA_BASENAME, prepare_server_file
from livecov.output import Listener
from livecov.server.handshake import SPEC_ENV, ServeSpec
from livecov.server_coverage import preimported_modules, server_coverage_config
from livecov.server_process import COVERAGE_ENV, LOG_TAIL_LINES, PREIMPORT_ENV, ServerProcess

# auto: werkzeug for a WSGI app, uvicorn for an ASGI app (the server process tells them apart).
SERVERS = ("auto", "werkzeug", "waitress", "gunicorn", "uvicorn")
# The servers that serve from one process only (auto too, for a WSGI app: the server says).
SINGLE_PROCESS = ("werkzeug", "waitress")

# Inherited variables that would make coverage start a second time in the server.
_COVERAGE_AUTOSTART_VARS = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")
APP_ERRORS_BASENAME = "app-errors.jsonl"


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


class LiveServer:
    """One live test server process (and its workers), measured with ``coverage_config``.

    As a context manager, entering starts it and leaving stops it gracefully, keeps its
    coverage data beside the run's data file (``data_files``: ready for ``coverage
    combine``) and removes its folder. ``livecov run`` and the pytest plugin call
    :meth:`start`, :meth:`stop` and :meth:`cleanup` themselves, to combine the data their
    own way in between.
    """

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
        self.server_process = ServerProcess(options.stop_timeout, workdir, on_output)
        self.workdir = self.server_process.workdir
        self.data_dir = self.server_process.data_dir
        self.tmpdir = self.server_process.tmpdir
        self.log_path = self.server_process.log_path
        self.app_errors_path = self.workdir / APP_ERRORS_BASENAME
        self.control = ControlClient("", self.token)  # its URL once it listens
        self.backend = ""  # the server that serves the app (auto: as the server chose)
        self.worker_pids: list[int] = []  # the processes serving it, as they reported
        self.stopped = False
        self.data_files: list[Path] = []
        self.startup_seconds = 0.0
        self.stop_seconds = 0.0

    @property
    def url(self) -> str:
        """The server's base URL once it listens (``http://127.0.0.1:PORT``), else ''."""
        return self.control.url

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The server's main process, once started."""
        return self.server_process.popen

    # -- starting ---------------------------------------------------------------
    def start(self) -> str:
        """Start the server; return its URL once it listens. Raises ServerStartError."""
        began = time.monotonic()
        reports = self.server_process.start(
            self._environment,
            self.options.processes,  # each worker process reports once it serves
            self.options.startup_timeout,
            self.options.cwd,
        )
        self.startup_seconds = time.monotonic() - began
        self.worker_pids = [report["pid"] for report in reports]
        self.backend = reports[0]["server"]
        self.control.url = reports[0]["url"]
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
        env[SPEC_ENV] = self._spec(ready_fd, lifeline_fd).to_json()
        if self.coverage_config is not None:
            preimport = preimported_modules(opts.server, self.coverage_config)
            env[PREIMPORT_ENV] = " ".join(preimport)
            env[COVERAGE_ENV] = server_coverage_config(
                self.coverage_config,
                self.data_dir,
                opts.server,
                self.core_choice.core,
                opts.processes,
                opts.contexts,
            )
        return env

    def _spec(self, ready_fd: int, lifeline_fd: int) -> ServeSpec:
        """What the server process is asked to do: the options that reach it, and this
        run's token, pipes and folders."""
        opts = self.options
        return ServeSpec(
            app=opts.app,
            token=self.token,
            ready_fd=ready_fd,
            lifeline_fd=lifeline_fd,
            tmpdir=str(self.tmpdir),
            server=opts.server,
            host=opts.host,
            port=opts.port,
            workers=opts.processes,
            control_dir=str(self.workdir / "workers"),
            threads=opts.threads,
            setup=opts.setup,
            reset=opts.reset,
            warmup=opts.warmup,
            # Contexts are coverage's: without a measurement there is nothing to label.
            contexts=opts.contexts and self.coverage_config is not None,
            orphan_grace=opts.orphan_grace,
            app_errors_file=str(self.app_errors_path),
        )

    # -- while running ------------------------------------------------------------
    def post(
        self, action: str, timeout: float = CONTROL_TIMEOUT, context: str | None = None
    ) -> dict[str, str]:
        """POST to a livecov control endpoint (``reset``, ``shutdown``) with the token; the
        lines it runs are recorded under ``context`` (default: ``live-server``)."""
        return self.control.post(action, timeout, context)

    @property
    def resets(self) -> bool:
        """Whether the app has a hook to reset its data with (``reset``, else ``setup``)."""
        return bool(self.options.reset or self.options.setup)

    def reset(self, context: str | None = None) -> None:
        """Run the app's reset hook (fresh data between tests), its lines recorded under
        ``context`` (the test it is for; default: ``live-server``)."""
        self.control.reset(context)

    def output(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the server printed (stdout and stderr together)."""
        return self.server_process.output(lines)

    def drain_output(self) -> None:
        """Return once the listeners have seen everything the server printed so far."""
        self.server_process.drain_output()

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
        self.stopped = True
        if not self.server_process.started:
            self.server_process.kill()
            return []
        began = time.monotonic()
        try:
            self.server_process.stop()
        finally:
            self.stop_seconds = time.monotonic() - began
            self.data_files = sorted(self.data_dir.glob(f"{SERVER_DATA_BASENAME}.*"))
        if self.coverage_config is not None and not _measured_files(self.data_files):
            raise CoverageLostError(
                "the server stopped but wrote no coverage data: is the app inside the "
                "coverage [run] source?"
            )
        return self.data_files

    def keep_data(self) -> list[Path]:
        """Move the data files out of the server's folder, beside the run's data file, as
        coverage.py's parallel files (``coverage combine`` adds them), marked as the
        server's and their templates repaired; return where they are now."""
        if self.coverage_config is None:
            return []
        register_data_steps()  # the template repair, as the front ends do
        run_data = Path(self.coverage_config.data_file).absolute()
        kept = []
        for path in self.data_files:
            prepare_server_file(path)
            suffix = path.name.removeprefix(SERVER_DATA_BASENAME)
            kept.append(Path(shutil.move(path, run_data.with_name(run_data.name + suffix))))
        return kept

    def cleanup(self) -> None:
        """Remove the working directory (server data, temporary app data, log)."""
        self.server_process.cleanup()

    def __enter__(self) -> LiveServer:
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self.stopped:
                self.stop()
            self.data_files = self.keep_data()
        finally:
            self.cleanup()


def _measured_files(data_files: list[Path]) -> int:
    """How many source files the data files hold lines for (a flush may leave empty ones)."""
    return sum(len(read_data(path).measured_files()) for path in data_files)
