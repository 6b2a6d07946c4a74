"""Serve an ASGI app under uvicorn: one process, or as gunicorn's workers (their class:
:mod:`livecov.server.serve_uvicorn_worker`, which needs uvicorn-worker).

Readiness comes from the app's lifespan (see :class:`LivecovAsgiMiddleware`): the socket
listens before uvicorn starts the app, so the URL is reported once the app's start-up has
completed, and a start-up that failed is reported with the app's own message.

Stopping: uvicorn catches SIGTERM/SIGINT, finishes the requests in flight (at most
``GRACEFUL_SHUTDOWN_SECONDS``, so an endless stream cannot keep the server from saving),
runs the lifespan shut-down, then raises the signal again; the handler waiting for it ends
the process normally, so coverage saves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from typing import NoReturn

import uvicorn

from livecov.errors import ServerStartError
from livecov.protocol import DEFAULT_CONTEXT
from livecov.server.asgi import LivecovAsgiMiddleware
from livecov.server.handshake import ServeSpec, http_url, report_failure, report_ready
from livecov.server.measuring import switch_coverage_context

# How long requests still running at a stop may take; then uvicorn cancels them.
GRACEFUL_SHUTDOWN_SECONDS = 5


def uvicorn_config(app: LivecovAsgiMiddleware) -> uvicorn.Config:
    return uvicorn.Config(app, lifespan="auto", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket uvicorn serves, with Nagle's algorithm off on every connection it accepts.

    asyncio sets TCP_NODELAY on a connection only when its socket's ``proto`` is
    IPPROTO_TCP, which a socket from ``socket.create_server`` (proto 0) is not. Without it, a
    response written in two parts (headers, then body: a2wsgi, Starlette) waits for the
    client's delayed ACK, about 40 ms a request on Linux (flaskr's index through a2wsgi:
    88 req/s instead of 600). Accepted connections inherit the option from this socket.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def serve(spec: ServeSpec, app: LivecovAsgiMiddleware) -> None:
    sock = listening_socket(spec.host, spec.port)
    url = http_url(spec.host, sock.getsockname()[1])
    report_lifespan(spec, app, url, "uvicorn")
    with sock:
        if spec.workers == 1:
            uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])
        else:
            serve_forked_workers(spec, app, sock)


def serve_forked_workers(spec: ServeSpec, app: LivecovAsgiMiddleware, sock: socket.socket) -> None:
    """Serve from ``spec.workers`` processes forked from this one, which built the app.

    uvicorn's own ``--workers`` spawns fresh interpreters that import the app by name: there
    the measurement would start after livecov's imports, and readiness could not reach the
    parent's pipe. Forked, each worker restarts the measurement (coverage.py's
    ``patch = fork``), serves the shared socket, reports its own start-up, and saves its
    data when it exits; this process waits, and stops them all when it is stopped. A worker
    ending by itself ends the server (its data, and the requests it would serve, are lost:
    the run must say so, not go on with fewer workers).
    """
    workers = [_fork_worker(spec, app, sock) for _ in range(spec.workers)]
    status = 0
    try:
        os.wait()  # a worker ended by itself
        status = 1
    except KeyboardInterrupt:  # SIGTERM or SIGINT: stop them all, gracefully
        pass
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in workers:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    if status:
        raise SystemExit(status)


def _fork_worker(spec: ServeSpec, app: LivecovAsgiMiddleware, sock: socket.socket) -> int:
    pid = os.fork()
    # One line for both processes: the worker's code runs in a frame of its own, which its
    # fresh measurement traces from the start (not the frame running at the fork).
    return pid or _serve_in_worker(spec, app, sock)


def _serve_in_worker(spec: ServeSpec, app: LivecovAsgiMiddleware, sock: socket.socket) -> NoReturn:
    """A forked worker: a fresh measurement (patch = fork), on the live-server context."""
    if spec.contexts:
        switch_coverage_context(DEFAULT_CONTEXT)
    with contextlib.suppress(KeyboardInterrupt):  # the stop signal, raised again by uvicorn
        uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])
    sys.exit(0)  # up through the server's frames: coverage saves at exit, this worker's data


def report_lifespan(spec: ServeSpec, app: LivecovAsgiMiddleware, url: str, server: str) -> None:
    """Report the URL once the app has started, or why its start-up failed."""

    def started() -> None:
        if app.worker_resets is not None:  # several workers: from now on, resets reach this one
            app.worker_resets.listen()
        report_ready(spec, url, server)

    app.started = started
    app.startup_failed = lambda message: report_failure(
        spec, ServerStartError(f"the app's lifespan start-up failed: {_last_line(message)}")
    )


def _last_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"
