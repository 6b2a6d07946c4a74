"""Build the app to serve: load it, check the server can serve it, run its hooks, and wrap
it in livecov's middleware for its kind (WSGI or ASGI).

Shared by the backends that load the app in the server process (:mod:`livecov.server.serve`)
and by gunicorn's workers, which each load it themselves
(:mod:`livecov.server.serve_gunicorn`).
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecov.errors import ConfigError
from livecov.protocol import DEFAULT_CONTEXT
from livecov.server.app_errors import AppErrorLog
from livecov.server.apps import call_hook, is_asgi, load_app, load_hook, warm_up_django
from livecov.server.handshake import ServeSpec
from livecov.server.install_hints import require_asgi_workers
from livecov.server.measuring import switch_coverage_context
from livecov.server.wsgi import LivecovMiddleware

if TYPE_CHECKING:
    from livecov.server.asgi import LivecovAsgiMiddleware

# The servers that serve only one kind of app. gunicorn serves both (uvicorn's workers for
# ASGI); auto picks werkzeug for WSGI, uvicorn for ASGI.
WSGI_SERVERS = ("werkzeug", "waitress")
ASGI_SERVERS = ("uvicorn",)


def build_app(spec: ServeSpec, stop: Callable[[], None]) -> Any:
    """Load the app, check the server can serve it, run the setup hook once, and wrap it in
    the livecov middleware for its kind (WSGI or ASGI); ``stop`` is the shutdown action."""
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
        # Imported now, in every process that builds the app: the import-time lines of its
        # module count for live-server, not for the test whose reset would import it first.
        load_hook(reset)
        actions["reset"] = lambda: call_hook(reset, app)
    middleware: LivecovMiddleware | LivecovAsgiMiddleware
    errors = AppErrorLog(spec.app_errors_file)
    if asgi:
        from livecov.server.asgi import LivecovAsgiMiddleware  # asyncio: for ASGI apps only

        middleware = LivecovAsgiMiddleware(
            app, spec.token, actions, contexts=spec.contexts, errors=errors
        )
    else:
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
    if spec.server == "gunicorn" and asgi:
        require_asgi_workers()
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
