"""What the server prints, read as it comes: kept whole in a log file, handed on line by line.

The server's stdout and stderr are one pipe. A thread reads it until every process of the
server (workers included) has closed it, so nothing the server wrote is lost, even when it
dies. Listeners get each line as soon as it is complete: ``livecov run`` shows them marked
as the server's; the pytest plugin attaches them to the test that was running.
"""

from __future__ import annotations

import array
import fcntl
import os
import select
import termios
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Listener = Callable[[str], None]

_TRACEBACK_HEADER = "Traceback (most recent call last):"
_CHAINED = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


class ServerOutput:
    """Pump the server's output from ``read_fd`` to ``log_path`` and to the listeners."""

    def __init__(self, read_fd: int, log_path: Path, listeners: list[Listener] | None = None):
        self._fd = read_fd
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed by close()
        self._listeners = list(listeners or [])
        self._partial = b""
        self._condition = threading.Condition()
        self._busy = False
        self._thread = threading.Thread(target=self._pump, name="livecov-server-output")
        self._thread.daemon = True
        self._thread.start()

    def add_listener(self, listener: Listener) -> None:
        with self._condition:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._condition:
            self._listeners.remove(listener)

    def _pump(self) -> None:
        while True:
            select.select([self._fd], [], [])
            with self._condition:
                self._busy = True
            try:
                chunk = os.read(self._fd, 65536)
                self._log.write(chunk)
                self._log.flush()
                self._feed(chunk)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()
            if not chunk:
                return

    def _feed(self, chunk: bytes) -> None:
        if not chunk:  # end of output: a last line without its newline is still a line
            chunk, self._partial = (self._partial + b"\n", b"") if self._partial else (b"", b"")
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        with self._condition:
            listeners = list(self._listeners)
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\r")
            for listener in listeners:
                listener(line)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every byte written so far has been handed on; False on a timeout.

        Whatever the server printed before it answered a request is in the pipe by the
        time the client has the answer: after this, the listeners have seen it.
        """
        with self._condition:
            return self._condition.wait_for(
                lambda: not self._thread.is_alive() or (not self._busy and not _unread(self._fd)),
                timeout,
            )

    def close(self, timeout: float = 5.0) -> None:
        """Wait for the end of the output (every writer gone), then release the pipe."""
        self._thread.join(timeout)
        if self._thread.is_alive():  # pragma: no cover - a process outside the group holds it
            return  # the thread still reads it: leave the descriptor to it
        os.close(self._fd)
        self._log.close()


class LineBuffer:
    """Lines added by the reading thread, taken out all at once by another."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def add(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)

    def take(self) -> list[str]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines


def _unread(fd: int) -> int:
    """How many bytes wait in the pipe ``fd``."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count, True)
    return count[0]


def first_exception(text: str) -> str | None:
    """The last line of the first traceback in ``text`` (``KeyError: 'x'``), if any.

    Chained exceptions belong to the same traceback: its last line is the final
    exception's. A line marked with a logger's prefix still counts.
    """
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.rstrip().endswith(_TRACEBACK_HEADER):
            return _last_line_of_traceback(lines[start + 1 :])
    return None


def _last_line_of_traceback(lines: list[str]) -> str | None:
    last = None
    for line in lines:
        stripped = line.strip()
        if not stripped or line[:1].isspace() or stripped.startswith("^"):
            continue  # frames, source lines, carets, blank lines
        if stripped in _CHAINED or stripped.endswith(_TRACEBACK_HEADER):
            last = None  # the chain goes on
            continue
        if last is not None:
            break  # the traceback ended with the line before
        last = stripped
    return last


@dataclass
class AppErrors:
    """The requests the app answered with a 5xx (see ``livecov.server.app_errors``)."""

    entries: list[dict[str, Any]]
    first_exception: str | None

    @property
    def unhandled(self) -> bool:
        """An exception of the app's: one escaped it, or it answered 500 (not 503 & co)."""
        return any(entry["exception"] or entry["status"] == 500 for entry in self.entries)

    def message(self, during: str = "") -> str:
        count, first = len(self.entries), self.entries[0]
        return (
            f"the app answered {count} request{'s' if count > 1 else ''} with a 5xx{during} "
            f"(the first: {first['status']} for {first['method']} {first['path']}); "
            f"first exception: {self.first_exception or 'none printed'}"
        )


def app_errors(entries: list[dict[str, Any]], output: str) -> AppErrors | None:
    """What to say of ``entries``, failed requests, given what the server printed meanwhile."""
    if not entries:
        return None
    raised = [entry["exception"] for entry in entries if entry["exception"]]
    return AppErrors(entries, first_exception(output) or (raised[0] if raised else None))
