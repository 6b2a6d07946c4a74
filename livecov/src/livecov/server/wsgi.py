"""The WSGI layer livecov puts in front of the app inside the test server.

It does two things the app itself never has to know about:

* **Attribution.** A request with the header ``Livecov-Context: NAME`` has the lines it
  runs recorded under the coverage context NAME (others under ``live-server``). Coverage
  contexts are process-wide, so requests of the context being recorded run side by side,
  and a request of another context waits until they are all done before it switches:
  no line is ever recorded under the wrong name (see :class:`ContextGate`).
* **Control.** ``POST /__livecov__/shutdown`` and ``POST /__livecov__/reset`` exist only
  here, and only answer a request carrying this run's random ``Livecov-Token``.
"""

from __future__ import annotations

import collections
import contextlib
import hmac
import json
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from livecov.protocol import (
    CONTEXT_HEADER,
    CONTROL_PREFIX,
    DEFAULT_CONTEXT,
    MAX_CONTEXT_LENGTH,
    TOKEN_HEADER,
)
from livecov.server.app_errors import AppErrorLog, print_request_error
from livecov.server.measuring import switch_coverage_context

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def clean_context(raw: str | None) -> str:
    """The context name for a header value: printable, bounded, never empty."""
    name = "".join(ch for ch in (raw or "") if ch.isprintable()).strip()
    return name[:MAX_CONTEXT_LENGTH] or DEFAULT_CONTEXT


class LivecovMiddleware:
    """Wrap ``app``; ``actions`` maps control names (``shutdown``, ``reset``) to callables.

    The coverage context is assumed to be ``DEFAULT_CONTEXT`` already when this is built.
    """

    def __init__(
        self,
        app: WSGIApp,
        token: str,
        actions: dict[str, Callable[[], None]],
        contexts: bool = True,
        errors: AppErrorLog | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.actions = actions
        self.contexts = contexts
        self.errors = errors
        self.gate = ContextGate(DEFAULT_CONTEXT)
        # Run after a control action, outside the gate, given its context (the reset of
        # the other workers).
        self.after_action: dict[str, Callable[[str], None]] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(path[len(CONTROL_PREFIX) :], environ, start_response)
        context = self._context_of(environ)
        watched = self._watch(environ, start_response, context)
        try:
            if not self.contexts:
                return self.app(environ, watched)
            with self.gate.inside(context):
                # The body is produced inside the gate so that every line it runs counts for
                # this request's context (a streamed response is therefore buffered).
                result = self.app(environ, watched)
                try:
                    return [b"".join(result)]
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
        except Exception as exc:
            # Answered here rather than by the server, so that every backend prints the
            # same thing: the request, then the traceback without livecov's frames.
            print_request_error(environ, context, exc)
            if self.errors is not None:
                self.errors.record(500, environ, context, exc)
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/plain; charset=utf-8")],
                sys.exc_info(),
            )
            return [b"Internal Server Error"]

    @staticmethod
    def _context_of(environ: dict[str, Any]) -> str:
        return clean_context(environ.get(_environ_key(CONTEXT_HEADER)))

    def _watch(
        self, environ: dict[str, Any], start_response: StartResponse, context: str
    ) -> StartResponse:
        """``start_response``, recording a 5xx answer (and the exception an app passes)."""
        errors = self.errors
        if errors is None:
            return start_response

        def watching(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            code = int(status.split(None, 1)[0])
            if code >= 500:
                exception = exc_info[0][1] if exc_info and exc_info[0] else None
                errors.record(code, environ, context, exception)
            return start_response(status, headers, *exc_info)

        return watching

    def _control(
        self, action: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if action not in self.actions:
            return _reply(start_response, "404 Not Found", {"error": "no such livecov action"})
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(
                start_response, "405 Method Not Allowed", {"error": "use POST"}, [("Allow", "POST")]
            )
        given = environ.get(_environ_key(TOKEN_HEADER), "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return _reply(start_response, "403 Forbidden", {"error": "bad or missing token"})
        if action == "shutdown":
            # Stop only once the answer has gone out: WSGI servers call close() after that.
            body = _reply(start_response, "202 Accepted", {"ok": action})
            return _CallOnClose(body, self.actions[action])
        # Alone: no request runs while the app is reset; its lines count for the test that
        # asked (its context header), else for live-server, never for the test before it.
        context = self._context_of(environ) if self.contexts else DEFAULT_CONTEXT
        try:
            self.run_alone(self.actions[action], context)
            if action in self.after_action:
                self.after_action[action](context)
        except Exception as exc:  # the app's hook: its traceback here, its line to the client
            print_request_error(environ, context, exc)
            return _reply(start_response, "500 Internal Server Error", {"error": str(exc)})
        return _reply(start_response, "200 OK", {"ok": action})

    def run_alone(self, action: Callable[[], None], context: str) -> None:
        """Run ``action`` with no request inside (from any thread), its lines recorded under
        ``context``."""
        with self.gate.inside(Alone(context)):
            action()


@dataclass(frozen=True)
class Alone:
    """Asks a gate for a visit with nobody else inside (a control action such as the
    reset), its lines recorded under ``context``."""

    context: str


# Who asks a gate in: a request's context, or a visit alone.
Visitor = str | Alone


class GateState:
    """The bookkeeping both context gates share: who is inside, what coverage records.

    Correctness: coverage switches context only while nobody is inside, so every line
    run between two switches belongs to requests of the same context. A switch flushes
    the tracer's data, so it happens only when the context changes. An :class:`Alone`
    visitor is let in with nobody else (the reset action). The gates add the waiting:
    once a request of another context waits, newcomers wait behind it, so no context is
    starved.
    """

    def __init__(self, context: str, switch: Callable[[str], None] | None) -> None:
        self._switch = switch or switch_coverage_context
        self._recording = context  # the context coverage records now
        self._open_to: str | None = context  # who may walk in without waiting (None: nobody)
        self._inside = 0

    def _may_join(self, visitor: Visitor) -> bool:
        """Whether ``visitor`` may run alongside the requests inside now."""
        return visitor == self._open_to  # an Alone never equals a context

    def _let_in(self, visitor: Visitor) -> None:
        """Count ``visitor`` in: the first one in opens the gate to its context (and one
        alone closes it)."""
        if self._inside == 0:
            context = visitor.context if isinstance(visitor, Alone) else visitor
            if context != self._recording:
                self._switch(context)
                self._recording = context
            self._open_to = None if isinstance(visitor, Alone) else context
        self._inside += 1

    def _let_out(self) -> bool:
        """Count one out; True when the last one left."""
        self._inside -= 1
        if self._inside == 0:
            self._open_to = self._recording
            return True
        return False


class ContextGate(GateState):
    """Admits requests of one coverage context at a time, any number of them at once,
    from the server's threads (the rules: :class:`GateState`)."""

    def __init__(
        self,
        context: str,
        switch: Callable[[str], None] | None = None,
        condition: threading.Condition | None = None,
    ) -> None:
        super().__init__(context, switch)
        self._condition = condition or threading.Condition()
        self._queue: collections.deque[object] = collections.deque()  # waiters, first come first

    @contextlib.contextmanager
    def inside(self, visitor: Visitor) -> Iterator[None]:
        self._enter(visitor)
        try:
            yield
        finally:
            self._leave()

    def _enter(self, visitor: Visitor) -> None:
        with self._condition:
            if not self._queue and self._may_join(visitor):
                self._let_in(visitor)
                return
            ticket = object()
            self._queue.append(ticket)
            try:
                self._condition.wait_for(
                    lambda: (
                        self._queue[0] is ticket and (self._inside == 0 or self._may_join(visitor))
                    )
                )
            finally:
                self._queue.remove(ticket)
                self._condition.notify_all()  # the next in line may join, or move up
            self._let_in(visitor)

    def _leave(self) -> None:
        with self._condition:
            if self._let_out():
                self._condition.notify_all()


class _CallOnClose(list[bytes]):
    def __init__(self, body: list[bytes], callback: Callable[[], None]) -> None:
        super().__init__(body)
        self.callback = callback

    def close(self) -> None:
        self.callback()


def _reply(
    start_response: StartResponse,
    status: str,
    body: dict[str, str],
    extra_headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(status, headers + (extra_headers or []))
    return [data]
