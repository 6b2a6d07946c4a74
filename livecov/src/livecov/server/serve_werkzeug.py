"""Serve a WSGI app under werkzeug's threaded server, in this process."""

from __future__ import annotations

import logging

from werkzeug.serving import make_server

from livecov.server.handshake import ServeSpec, close_ready_pipe, http_url, report_ready
from livecov.server.wsgi import WSGIApp


def serve(spec: ServeSpec, app: WSGIApp) -> None:
    # Errors (tracebacks of failed requests) only: a line per request is noise on screen.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(spec.host, spec.port, app, threaded=True)
    report_ready(spec, http_url(spec.host, server.server_port), "werkzeug")
    close_ready_pipe(spec)
    server.serve_forever()
