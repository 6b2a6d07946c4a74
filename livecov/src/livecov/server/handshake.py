"""The handshake between the two processes: the spec the server is started with, and the
one line it answers with on the ready pipe (its URL, or why it cannot serve).

The bottom of the server side: every other module of it may import this one, and this one
imports none of them but :mod:`livecov.server.app_errors` (the user's traceback). The
test side builds the spec from its settings and reads the line back
(:mod:`livecov.live_server`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from livecov.errors import LivecovError
from livecov.server.app_errors import user_traceback

# The environment variable the spec travels in, as JSON.
SPEC_ENV = "LIVECOV_SPEC"


@dataclass
class ServeSpec:
    """What the parent asks of the server process: built by :class:`livecov.live_server.LiveServer`
    from its ServerOptions (where the defaults live), sent as JSON, every field always set."""

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

    def to_json(self) -> str:
        """The spec as the server process receives it, in ``SPEC_ENV``."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSpec:
        return cls(**json.loads(text))


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


def close_ready_pipe(spec: ServeSpec) -> None:
    """Close the ready pipe once the one process that reports has reported."""
    with contextlib.suppress(OSError):
        os.close(spec.ready_fd)


def _tell_parent(spec: ServeSpec, message: dict[str, Any]) -> None:
    line = json.dumps(message) + "\n"
    with contextlib.suppress(OSError):  # the parent may have stopped reading (worker respawn)
        os.write(spec.ready_fd, line.encode())
