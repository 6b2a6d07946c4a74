"""gunicorn's worker for an ASGI app: uvicorn-worker's, stopping as :mod:`serve_uvicorn`
says. A module of its own: uvicorn alone (the default server of an ASGI app) needs no
uvicorn-worker, so only gunicorn serving an ASGI app imports it."""

from __future__ import annotations

import signal
import sys
from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from livecov.server.serve_uvicorn import GRACEFUL_SHUTDOWN_SECONDS


class LivecovUvicornWorker(UvicornWorker):  # type: ignore[misc]
    """uvicorn's gunicorn worker, stopping the way this module's docstring says."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "lifespan": "auto",
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }

    def init_signals(self) -> None:
        super().init_signals()
        # uvicorn raises the stop signal again once it has shut down gracefully: end the
        # worker normally then (gunicorn's default handlers are gone), so coverage saves.
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, _exit_normally)


def _exit_normally(signum: int, frame: Any) -> None:
    sys.exit(0)


def run_uvicorn_worker(loaded: Any) -> None:
    """Carry on, as uvicorn's worker, the gunicorn worker ``loaded`` that loaded an ASGI app."""
    worker = LivecovUvicornWorker(
        loaded.age, loaded.ppid, loaded.sockets, loaded.app, loaded.timeout, loaded.cfg, loaded.log
    )
    worker.tmp.close()
    worker.tmp = loaded.tmp  # the file whose heartbeat the master watches
    worker.pid = loaded.pid
    worker.wsgi = loaded.wsgi
    worker.booted = True
    worker.init_signals()
    worker.run()
