"""Serve a WSGI app under waitress, in this process, with ``spec.threads`` threads."""

from __future__ import annotations

from waitress.server import create_server

from livecov.server.handshake import ServeSpec, close_ready_pipe, http_url, report_ready
from livecov.server.wsgi import WSGIApp


def serve(spec: ServeSpec, app: WSGIApp) -> None:
    server = create_server(app, host=spec.host, port=spec.port, threads=spec.threads)
    report_ready(spec, http_url(spec.host, server.effective_port), "waitress")  # type: ignore[union-attr]
    close_ready_pipe(spec)
    server.run()  # returns after KeyboardInterrupt, once its threads have finished
