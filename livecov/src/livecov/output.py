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
import pty
import select
import termios
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Listener = Callable[[str], None]

# How long drain() and close() wait for what the writers of a pipe wrote so far.
_WAIT_SECONDS = 5.0
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

    def drain(self, timeout: float = _WAIT_SECONDS) -> bool:
        """Wait until every byte written so far has been handed on; False on a timeout.

        Whatever the server printed before it answered a request is in the pipe by the
        time the client has the answer: after this, the listeners have seen it.
        """
        with self._condition:
            return self._condition.wait_for(
                lambda: not self._thread.is_alive() or (not self._busy and not _unread(self._fd)),
                timeout,
            )

    def close(self, timeout: float = _WAIT_SECONDS) -> None:
        """Wait for the end of the output (every writer gone), then release the pipe."""
        self._thread.join(timeout)
        if self._thread.is_alive():  # pragma: no cover - a process outside the group holds it
            return  # the thread still reads it: leave the descriptor to it
        os.close(self._fd)
        self._log.close()


class CommandOutput:
    """The command's stdout and stderr passed on by livecov, so that the server's lines are
    printed only between the command's complete lines, never inside one.

    Each stream reaches livecov's own (``stdout``, ``stderr``) through a pseudo-terminal
    when that is a terminal (the command still sees one: colours, line buffering, the
    width), else through a pipe. A server line that comes while the command's last line on
    either stream is incomplete is held until it is complete (or the command has ended).
    """

    def __init__(self, mark: str, stdout: int = 1, stderr: int = 2) -> None:
        self._mark = mark
        self._destinations = (stdout, stderr)
        self._condition = threading.Condition()
        self._open: set[int] = set()  # destinations whose last line from the command is open
        self._held: list[str] = []
        self._busy = 0
        self._readers: list[int] = []
        self._threads: list[threading.Thread] = []

    def command_streams(self) -> tuple[int, int]:
        """Open the passage; the command's stdout and stderr (close them once it has them)."""
        ends = [self._open_channel(destination) for destination in self._destinations]
        return ends[0], ends[1]

    def _open_channel(self, destination: int) -> int:
        if os.isatty(destination):
            read, write = pty.openpty()
            size = fcntl.ioctl(destination, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(write, termios.TIOCSWINSZ, size)
            modes = termios.tcgetattr(write)
            modes[1] &= ~termios.OPOST  # bytes as written: livecov's terminal turns \n to \r\n
            termios.tcsetattr(write, termios.TCSANOW, modes)
        else:
            read, write = os.pipe()
        with self._condition:
            self._readers.append(read)
        thread = threading.Thread(
            target=self._pump, args=(read, destination), name="livecov-command-output"
        )
        thread.daemon = True
        thread.start()
        self._threads.append(thread)
        return write

    def server_line(self, line: str) -> None:
        """Print a line of the server's now, or as soon as the command's lines are complete."""
        with self._condition:
            self._held.append(line)
            self._flush_held()

    def _flush_held(self) -> None:
        if self._open or not self._held:
            return
        text = "".join(f"{self._mark}{line}\n" for line in self._held)
        self._held.clear()
        _write_all(self._destinations[1], text.encode())

    def _pump(self, read: int, destination: int) -> None:
        chunk = b"-"
        while chunk:
            select.select([read], [], [])
            with self._condition:
                self._busy += 1  # before the read: drain() must not see an empty pipe
            chunk = _read_or_end(read)
            try:
                _write_all(destination, chunk)
            finally:
                with self._condition:
                    self._busy -= 1
                    if not chunk and destination in self._open and self._held:
                        _write_all(destination, b"\n")  # it ended mid-line: end that line
                    if chunk.endswith(b"\n") or not chunk:  # a line ended, or the stream
                        self._open.discard(destination)
                    else:
                        self._open.add(destination)
                    self._flush_held()
                    self._condition.notify_all()
        with self._condition:  # under the lock: drain() reads what waits in the others
            self._readers.remove(read)
            os.close(read)

    def drain(self, timeout: float = _WAIT_SECONDS) -> bool:
        """Wait until everything the command wrote so far has been passed on."""
        with self._condition:
            return self._condition.wait_for(
                lambda: not self._busy and not any(map(_unread, self._readers)),
                timeout,
            )

    def close(self, timeout: float = _WAIT_SECONDS) -> None:
        """Wait for the end of the command's output (every writer gone), then release it."""
        for thread in self._threads:
            thread.join(timeout)  # a thread a leftover writer keeps alive closes its own end
        with self._condition:
            self._open.clear()
            self._flush_held()  # what a leftover writer still holds back


def _read_or_end(fd: int) -> bytes:
    """The next chunk from ``fd``; b"" at its end (a pty says so with EIO)."""
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
            return _last_line_of_traceback(lines[start:])  # the header starts a chain
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
