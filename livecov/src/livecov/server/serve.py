"""The test server process: build the app, listen, report the URL, serve until told to stop.

The parent (:mod:`livecov.live_server`) starts this with coverage already running (see
``BOOTSTRAP`` there, which also saves the data at the end), so every module imported from
here on, the app's included, is measured. The spec arrives as JSON in ``LIVECOV_SPEC``;
the URL goes back as one JSON line on the pipe ``ready_fd`` once the socket listens.

SIGTERM and SIGINT both stop the server gracefully; coverage is then saved. The handlers
are set explicitly because a process started in the background by a non-interactive
shell inherits SIGINT as *ignored*. The server also stops, just as gracefully, when the
process that started it is gone (EOF on the ``lifeline_fd`` pipe), so it never outlives
a parent that was killed without a chance to stop it; an app that ignores SIGTERM is
killed ``orphan_grace`` seconds later (``ServerOptions.orphan_grace``, 5 by default).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecov.errors import ConfigError, LivecovError
from livecov.protocol import DEFAULT_CONTEXT
from livecov.server.app_errors import AppErrorLog, user_traceback
from livecov.server.apps import call_hook, is_asgi, load_app, warm_up_django
from livecov.server.wsgi import (
    LivecovMiddleware,
    WSGIApp,
    switch_coverage_context,
)

if TYPE_CHECKING:
    from livecov.server.asgi import LivecovAsgiMiddleware

SPEC_ENV = "LIVECOV_SPEC"

# The module each backend needs; the extra of livecov that brings it has its name too.
BACKEND_MODULES = {name: name for name in ("werkzeug", "waitress", "gunicorn", "uvicorn")}


@dataclass
class ServeSpec:
    """What the parent asks of the server process (sent as JSON, every field always set:
    the defaults live in :class:`livecov.live_server.ServerOptions`)."""

    app: str
    token: str
    ready_fd: int
    lifeline_fd: int
    tmpdir: str
    server: str
    host: str
    port: int
    workers: int
    control_dir: str
    threads: int
    setup: str | None
    reset: str | None
    warmup: str | None
    contexts: bool
    orphan_grace: float
    app_errors_file: str


def build_app(spec: ServeSpec, stop: Callable[[], None]) -> Any:
    """Load the app, check the server can serve it, run the setup hook once, and wrap it in
    the livecov middleware for its kind (WSGI or ASGI)."""
    if spec.contexts:
        switch_coverage_context(DEFAULT_CONTEXT)  # the app's import and set-up count here
    app = load_app(spec.app)
    asgi = is_asgi(app)
    check_server(spec, asgi)
    warm_up(spec, app)
    if spec.setup:
        _run_setup_once(spec, app)
    actions: dict[str, Callable[[], None]] = {"shutdown": stop}
    reset = spec.reset or spec.setup
    if reset:
        actions["reset"] = lambda: call_hook(reset, app)
    middleware: LivecovMiddleware | LivecovAsgiMiddleware
    if asgi:
        from livecov.server.asgi import LivecovAsgiMiddleware  # asyncio: for ASGI apps only

        middleware = LivecovAsgiMiddleware(app, spec.token, actions, contexts=spec.contexts)
    else:
        errors = AppErrorLog(spec.app_errors_file)
        middleware = LivecovMiddleware(
            app, spec.token, actions, contexts=spec.contexts, errors=errors
        )
    if reset and spec.workers > 1:
        _reset_every_worker(spec, middleware)
    return middleware


def _reset_every_worker(
    spec: ServeSpec, middleware: LivecovMiddleware | LivecovAsgiMiddleware
) -> None:
    """A reset reaching one worker reaches them all (:mod:`livecov.server.workers`)."""
    from livecov.server.workers import WorkerResets

    resets = WorkerResets(Path(spec.control_dir), middleware.actions["reset"], middleware.run_alone)
    middleware.after_action["reset"] = resets.reset_others
    if isinstance(middleware, LivecovMiddleware):
        resets.listen()  # a gunicorn worker: it serves next
    else:
        middleware.worker_resets = resets  # it listens once its event loop runs


def warm_up(spec: ServeSpec, app: Any) -> None:
    """Load, before the first request, what the app would load lazily on it, so that its
    import-time lines count for ``live-server``, not for whichever test came first: Django's
    URLconf and views, then what the ``warmup`` hook loads."""
    warm_up_django()
    if spec.warmup:
        call_hook(spec.warmup, app)


def check_server(spec: ServeSpec, asgi: bool) -> None:
    """Raise ConfigError when the chosen server cannot serve an app of this kind."""
    if spec.server == "auto" and not asgi and spec.workers > 1:
        raise ConfigError(
            f"{spec.app} is a WSGI app, which werkzeug (the server for it by default) serves "
            f"from one process, not {spec.workers}: for several worker processes use "
            "--server gunicorn"
        )
    if spec.server in ("auto", "gunicorn"):
        return
    if asgi and spec.server in WSGI_SERVERS:
        raise ConfigError(
            f"{spec.app} is an ASGI app, which {spec.server} cannot serve: "
            "use server uvicorn or gunicorn (or leave the server out)"
        )
    if not asgi and spec.server in ASGI_SERVERS:
        raise ConfigError(
            f"{spec.app} is a WSGI app, which {spec.server} cannot serve: "
            "use server werkzeug, waitress or gunicorn (or leave the server out)"
        )


def _run_setup_once(spec: ServeSpec, app: Any) -> None:
    # Several gunicorn workers build the app; only the first one seeds the data.
    marker = Path(spec.tmpdir, ".livecov-setup-done")
    with open(Path(spec.tmpdir, ".livecov-setup.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            call_hook(spec.setup or "", app)
            marker.touch()


def http_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host``:``port`` (IPv6 hosts in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def report_ready(spec: ServeSpec, url: str, server: str) -> None:
    """Tell the parent ``server`` listens at ``url``: one JSON line on the ready pipe."""
    _tell_parent(spec, {"url": url, "pid": os.getpid(), "server": server})


def report_failure(spec: ServeSpec, error: LivecovError) -> None:
    """Tell the parent why the server cannot serve, in one line; print the user's traceback.

    Only an exception raised by the user's own code (the error's cause) has its traceback
    printed, without livecov's frames or importlib's: a wrong setting needs no traceback.
    """
    if error.__cause__ is not None:
        print(user_traceback(error.__cause__), end="", file=sys.stderr, flush=True)
    _tell_parent(spec, {"error": str(error), "status": error.exit_status})


def _tell_parent(spec: ServeSpec, message: dict[str, Any]) -> None:
    line = json.dumps(message) + "\n"
    with contextlib.suppress(OSError):  # the parent may have stopped reading (worker respawn)
        os.write(spec.ready_fd, line.encode())


def require_backend(server: str) -> None:
    """Raise ConfigError, naming what to install, when the backend's package is missing."""
    if importlib.util.find_spec(BACKEND_MODULES[server]) is None:
        raise ConfigError(
            f"the {server} server is not installed: {install_command(server)} "
            "(or choose another --server)"
        )


def install_command(extra: str) -> str:
    """The pip command adding livecov's ``extra`` from where this livecov was installed."""
    return install_command_for(extra, _direct_url_of("livecov"))


def install_command_for(extra: str, direct_url: str | None) -> str:
    """The pip command adding ``extra`` to a livecov installed as ``direct_url`` says.

    ``direct_url`` is the distribution's ``direct_url.json`` (PEP 610): a folder (the
    README's way), editable or not, is named by its path, a VCS or archive URL by that
    URL, and a package index (no such file: None) by the name alone.
    """
    origin = json.loads(direct_url or "{}")
    url = origin.get("url", "")
    if url.startswith("file://") and "dir_info" in origin:
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
        editable = "-e " if origin["dir_info"].get("editable") else ""
        return f"pip install {editable}'{path}[{extra}]'"
    if "vcs_info" in origin:
        url = f"{origin['vcs_info']['vcs']}+{url}"
    if url:
        return f"pip install 'livecov[{extra}] @ {url}'"
    return f"pip install 'livecov[{extra}]'"


def _direct_url_of(distribution: str) -> str | None:
    try:
        return importlib.metadata.distribution(distribution).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree (PYTHONPATH)
        return None


def _stop_this_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def serve_werkzeug(spec: ServeSpec, app: WSGIApp) -> None:
    from werkzeug.serving import make_server

    # Errors (tracebacks of failed requests) only: a line per request is noise on screen.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(spec.host, spec.port, app, threaded=True)
    report_ready(spec, http_url(spec.host, server.server_port), "werkzeug")
    _close_ready_pipe(spec)
    server.serve_forever()


def serve_waitress(spec: ServeSpec, app: WSGIApp) -> None:
    from waitress.server import create_server

    server = create_server(app, host=spec.host, port=spec.port, threads=spec.threads)
    report_ready(spec, http_url(spec.host, server.effective_port), "waitress")  # type: ignore[union-attr]
    _close_ready_pipe(spec)
    server.run()  # returns after KeyboardInterrupt, once its threads have finished


def serve_uvicorn(spec: ServeSpec, app: Any) -> None:
    from livecov.server.uvicorn_app import serve_uvicorn

    serve_uvicorn(spec, app)


def _close_ready_pipe(spec: ServeSpec) -> None:
    with contextlib.suppress(OSError):
        os.close(spec.ready_fd)


# The servers that load the app in this process, and what they serve. gunicorn loads it
# in each worker and serves both kinds (uvicorn's workers for ASGI).
BACKENDS: dict[str, Callable[[ServeSpec, Any], None]] = {
    "werkzeug": serve_werkzeug,
    "waitress": serve_waitress,
    "uvicorn": serve_uvicorn,
}
WSGI_SERVERS = ("werkzeug", "waitress")
ASGI_SERVERS = ("uvicorn",)


def _graceful_stop(signum: int, frame: Any) -> None:
    # Ignore further stop signals: the server is already on its way out.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _stop_when_parent_is_gone(lifeline_fd: int, grace: float) -> None:
    os.read(lifeline_fd, 1)  # the parent never writes: this returns when it has exited
    _stop_this_process()
    # Still running after the grace time: the app ignores SIGTERM. Nobody is left to stop
    # this server or to read its data, so it goes, workers and all.
    threading.Event().wait(grace)
    # No number here: a mutation tester turning 0 into 1 would kill process group 1.
    # Never recorded as run: the process dies on this line, before coverage can save.
    os.killpg(os.getpgrp(), signal.SIGKILL)  # pragma: no cover


def main() -> None:
    """Serve until SIGTERM, SIGINT or the parent's exit (run by the bootstrap)."""
    spec = ServeSpec(**json.loads(os.environ.pop(SPEC_ENV)))
    signal.signal(signal.SIGTERM, _graceful_stop)
    signal.signal(signal.SIGINT, _graceful_stop)
    threading.Thread(
        target=_stop_when_parent_is_gone, args=(spec.lifeline_fd, spec.orphan_grace), daemon=True
    ).start()
    try:
        serve(spec)
    except LivecovError as exc:
        report_failure(spec, exc)
        raise SystemExit(1) from None


def serve(spec: ServeSpec) -> None:
    """Serve the app under the chosen server; ``auto``: werkzeug for WSGI, uvicorn for ASGI."""
    if spec.server == "gunicorn":  # it loads the app in each worker, and exits by itself
        require_backend("gunicorn")
        from livecov.server.gunicorn_app import run_gunicorn

        run_gunicorn(spec)
    else:
        if spec.server != "auto":
            require_backend(spec.server)
        app = build_app(spec, _stop_this_process)
        server = spec.server
        if server == "auto":
            server = "werkzeug" if isinstance(app, LivecovMiddleware) else "uvicorn"
            require_backend(server)
        BACKENDS[server](spec, app)
