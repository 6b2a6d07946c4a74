"""The test server process: build the app, hand it to its backend, serve until told to stop.

The parent (:mod:`livecov.live_server`) starts this with coverage already running (see
``BOOTSTRAP`` there, which also saves the data at the end), so every module imported from
here on, the app's included, is measured. The spec arrives as JSON in ``LIVECOV_SPEC``;
the URL goes back as one JSON line on the pipe ``ready_fd`` once the socket listens (the
handshake: :mod:`livecov.server.handshake`). This module only dispatches: each backend is a
module of its own beside it (``serve_werkzeug``, ``serve_waitress``, ``serve_gunicorn``,
``serve_uvicorn``), imported once chosen, and none of them imports this one.

SIGTERM and SIGINT both stop the server gracefully; coverage is then saved. The handlers
are set explicitly because a process started in the background by a non-interactive
shell inherits SIGINT as *ignored*. The server also stops, just as gracefully, when the
process that started it is gone (EOF on the ``lifeline_fd`` pipe), so it never outlives
a parent that was killed without a chance to stop it; an app that ignores SIGTERM is
killed ``orphan_grace`` seconds later (``ServerOptions.orphan_grace``, 5 by default).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from livecov.errors import LivecovError
from livecov.server.build import build_app
from livecov.server.handshake import SPEC_ENV, ServeSpec, report_failure
from livecov.server.install_hints import require_backend
from livecov.server.wsgi import LivecovMiddleware


def _stop_this_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def backend(server: str) -> Callable[[ServeSpec, Any], None]:
    """The function serving a built app under ``server``, its module imported now: the
    backends not chosen are never imported."""
    if server == "werkzeug":
        from livecov.server import serve_werkzeug

        return serve_werkzeug.serve
    if server == "waitress":
        from livecov.server import serve_waitress

        return serve_waitress.serve
    from livecov.server import serve_uvicorn

    return serve_uvicorn.serve


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
    spec = ServeSpec.from_json(os.environ.pop(SPEC_ENV))
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
        from livecov.server import serve_gunicorn

        serve_gunicorn.run(spec)
    else:
        if spec.server != "auto":
            require_backend(spec.server)
        app = build_app(spec, _stop_this_process)
        server = spec.server
        if server == "auto":
            server = "werkzeug" if isinstance(app, LivecovMiddleware) else "uvicorn"
            require_backend(server)
        backend(server)(spec, app)
