"""A reset reaches every worker process of a server that has several (gunicorn's, uvicorn's).

Each worker holds the app's in-memory state of its own (module globals, caches), and a
``POST /__livecov__/reset`` reaches one of them, the one that accepts the connection. So
every worker, once it serves, listens on a Unix socket of its own in the run's control
folder (named by its pid). The worker that receives the reset runs the hook itself, alone
in its gate as always; then, outside its gate, it asks every other worker in turn to run the
hook too, each alone in its own gate (no request of that worker runs meanwhile), and answers
once they all have. The hook thus runs once per worker process, one after another: it must
be one that can run again (resetting shared data, a database, is then done several times).
Each worker records the hook's lines under the context the reset was asked for (the test's),
sent along with the question, like the worker that received it.

Nobody waits for a gate while holding one, so two resets at once (two test processes
sharing one server) cannot wait for each other. A socket whose worker is gone (gunicorn
replaced it) refuses the connection: it is removed, and its replacement, a fresh process,
needs no reset. The standard library's sockets and threads are all this takes: the workers
share nothing else (multiprocessing's managers would need a process of their own).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from livecov.errors import AppLoadError, LivecovError

# How long one worker's reset may take (the test process's own request waits 30 s).
RESET_TIMEOUT = 30.0
_REQUEST = b"reset "  # then the context's name, a line of UTF-8

Action = Callable[[], None]


class WorkerResets:
    """The reset of one worker process, and the way to the others'."""

    def __init__(
        self, folder: Path, reset: Action, run_alone: Callable[[Action, str], None]
    ) -> None:
        self.folder = folder
        self.reset = reset
        self.run_alone = run_alone  # runs an action with no request of this worker inside

    def listen(self) -> None:
        """From now on, run the reset whenever another worker asks (in this worker process)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.folder / str(os.getpid())))
        listener.listen()
        threading.Thread(target=self._serve, args=(listener,), daemon=True).start()

    def _serve(self, listener: socket.socket) -> None:
        while True:
            connection, _ = listener.accept()
            with connection, connection.makefile("rb") as question:
                context = question.readline().removeprefix(_REQUEST).rstrip(b"\n").decode()
                connection.sendall(json.dumps(self._reset_here(context)).encode() + b"\n")

    def _reset_here(self, context: str) -> dict[str, str]:
        try:
            self.run_alone(self.reset, context)
        except LivecovError as exc:  # the hook raised: the asking worker says so
            return {"error": str(exc)}
        return {"ok": "reset"}

    def reset_others(self, context: str) -> None:
        """Have every other worker run the reset, one after another, its lines recorded
        under ``context``; raise AppLoadError with a worker's message when its hook raised."""
        me = str(os.getpid())
        for path in sorted(self.folder.iterdir(), key=lambda p: p.name):
            if path.name != me:
                answer = _ask(path, context)
                if "error" in answer:
                    raise AppLoadError(f"in worker {path.name}: {answer['error']}")


def _ask(path: Path, context: str) -> dict[str, str]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(RESET_TIMEOUT)
        try:
            connection.connect(str(path))
            connection.sendall(_REQUEST + context.encode() + b"\n")
            with connection.makefile("rb") as answer:
                reply = answer.readline()
        except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
            reply = b""
    if not reply:  # its worker is gone, or went while asked: its replacement starts afresh
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return {"ok": "gone"}
    answered: dict[str, str] = json.loads(reply)
    return answered
