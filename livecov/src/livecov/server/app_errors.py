"""Requests the app answered with a 5xx, or that raised: recorded as they happen.

Each is one JSON line appended to a file the parent reads (``livecov run`` counts them at
the end; the pytest plugin gives them to the test that made the request). Appending one
short line is atomic, so gunicorn's workers share the file; a server that dies loses none.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any

# Frames the user never needs to see: livecov's own (the package this one is in), and the
# import machinery's.
_LIVECOV_DIR = os.path.dirname(os.path.dirname(__file__))
_NOT_THE_USERS = (
    *(folder + os.sep for folder in (_LIVECOV_DIR, os.path.dirname(importlib.__file__ or ""))),
    "<frozen importlib",
)


class AppErrorLog:
    """Append one line per failed request to ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def record(
        self,
        status: int,
        environ: dict[str, Any],
        context: str | None,
        exception: BaseException | None = None,
    ) -> None:
        entry = {
            "status": status,
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "context": context,
            "exception": exception_line(exception) if exception is not None else None,
            "pid": os.getpid(),
        }
        line = (json.dumps(entry) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def exception_line(exc: BaseException) -> str:
    """``ZeroDivisionError: division by zero``: the last line of its traceback, but for the
    notes added to it (``add_note``), which come after the exception's own line."""
    report = traceback.TracebackException.from_exception(exc)
    report.__notes__ = None
    return list(report.format_exception_only())[-1].strip()


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` (and its chain) with only the user's frames."""
    report = traceback.TracebackException.from_exception(exc)
    pending = [report]  # the chain (causes, contexts) has no cycles: the constructor cut them
    while pending:
        current = pending.pop()
        current.stack = traceback.StackSummary.from_list(
            [frame for frame in current.stack if not frame.filename.startswith(_NOT_THE_USERS)]
        )
        pending.extend(c for c in (current.__cause__, current.__context__) if c is not None)
    return "".join(report.format())


def print_request_error(environ: dict[str, Any], context: str | None, exc: BaseException) -> None:
    """What a failed request prints on the server's stderr: what it was, then the traceback."""
    method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
    named = f" (Livecov-Context: {context})" if context else ""
    print(f"Exception on {method} {path}{named}:", file=sys.stderr)
    print(user_traceback(exc), end="", file=sys.stderr, flush=True)
