"""Serve under gunicorn with several worker processes, each measured and saved.

The master never imports the app; each worker restarts coverage right after the fork
(coverage.py's ``patch = fork``, set by the parent) and loads the app itself, so every
worker measures the app's import as well as the requests it serves, and saves its own data
file when it exits. The master cannot know which kind of app it serves, so every worker
starts as gunicorn's sync worker and, once it has loaded an ASGI app, hands over to
uvicorn's worker (:mod:`livecov.server.serve_uvicorn`).
"""

from __future__ import annotations

import sys
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.sync import SyncWorker

from livecov.errors import LivecovError
from livecov.server.asgi import LivecovAsgiMiddleware
from livecov.server.build import build_app
from livecov.server.handshake import ServeSpec, http_url, report_failure, report_ready


class LivecovWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker for a WSGI app; uvicorn's worker for an ASGI app."""

    def run(self) -> None:
        if isinstance(self.wsgi, LivecovAsgiMiddleware):
            from livecov.server.serve_uvicorn_worker import run_uvicorn_worker

            run_uvicorn_worker(self)
        else:
            super().run()


class LivecovGunicorn(BaseApplication):  # type: ignore[misc]
    """A gunicorn application configured in code (no gunicorn.conf.py is read)."""

    def __init__(self, spec: ServeSpec) -> None:
        self.spec = spec
        self.url = ""
        super().__init__()

    def load_config(self) -> None:
        spec = self.spec
        settings: dict[str, Any] = {
            "bind": [http_url(spec.host, spec.port).removeprefix("http://")],
            "workers": spec.workers,
            "worker_class": LivecovWorker,
            "graceful_timeout": 10,
            "loglevel": "warning",  # errors only: start-up and worker chatter is noise
            "when_ready": self._when_ready,
            "post_worker_init": self._post_worker_init,
        }
        # Recent gunicorn opens a control socket, one per home directory: runs would collide.
        settings.update(dict.fromkeys(self.cfg.settings.keys() & {"control_socket_disable"}, True))
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        try:
            app = build_app(self.spec, self._stop_master)
        except LivecovError as exc:  # told in one line, not as gunicorn's traceback
            report_failure(self.spec, exc)
            sys.exit(Arbiter.APP_LOAD_ERROR)  # gunicorn's master then stops too
        if isinstance(app, LivecovAsgiMiddleware):  # ready once its lifespan has started
            from livecov.server.serve_uvicorn import report_lifespan

            report_lifespan(self.spec, app, self.url, "gunicorn")
        return app

    def _when_ready(self, arbiter: Any) -> None:
        host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        self.url = http_url(host, port)

    def _post_worker_init(self, worker: Any) -> None:
        if not isinstance(worker.wsgi, LivecovAsgiMiddleware):
            report_ready(self.spec, self.url, "gunicorn")

    def _stop_master(self) -> None:
        import os
        import signal

        os.kill(os.getppid(), signal.SIGTERM)


def run(spec: ServeSpec) -> None:
    """Serve until gunicorn's master is stopped: it loads the app in each worker."""
    LivecovGunicorn(spec).run()
