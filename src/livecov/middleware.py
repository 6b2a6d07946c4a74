"""The WSGI layer livecov puts in front of the app inside the test server.

It does two things the app itself never has to know about:

* **Attribution.** A request with the header ``Livecov-Context: NAME`` has the lines it
  runs recorded under the coverage context NAME (others under ``live-server``). Coverage
  contexts are process-wide, so while contexts are on, requests are served one at a time;
  otherwise two overlapping requests would mix their lines.
* **Control.** ``POST /__livecov__/shutdown`` and ``POST /__livecov__/reset`` exist only
  here, and only answer a request carrying this run's random ``Livecov-Token``.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import coverage

CONTEXT_HEADER = "Livecov-Context"
TOKEN_HEADER = "Livecov-Token"  # noqa: S105 - a header name, not a secret
DEFAULT_CONTEXT = "live-server"
CONTROL_PREFIX = "/__livecov__/"
MAX_CONTEXT_LENGTH = 500

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def clean_context(raw: str | None) -> str:
    """The context name for a header value: printable, bounded, never empty."""
    name = "".join(ch for ch in (raw or "") if ch.isprintable()).strip()
    return name[:MAX_CONTEXT_LENGTH] or DEFAULT_CONTEXT


def switch_coverage_context(context: str) -> None:
    """Record what runs from now on under ``context``.

    Contexts are only switched on when the server is measured, so there is always a
    current measurement (a gunicorn worker's own, after the fork).
    """
    coverage.Coverage.current().switch_context(context)


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
    ) -> None:
        self.app = app
        self.token = token
        self.actions = actions
        self.contexts = contexts
        self.lock = threading.Lock()
        self.current_context = DEFAULT_CONTEXT

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(path[len(CONTROL_PREFIX) :], environ, start_response)
        if not self.contexts:
            return self.app(environ, start_response)
        context = clean_context(environ.get(_environ_key(CONTEXT_HEADER)))
        with self.lock:
            self._switch(context)
            # The body is produced inside the lock so that every line it runs counts for
            # this request's context (a streamed response is therefore buffered).
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    def _switch(self, context: str) -> None:
        # Switching flushes the tracer's data, so skip it when the context is unchanged.
        if context != self.current_context:
            switch_coverage_context(context)
            self.current_context = context

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
        with self.lock:
            self.actions[action]()
        return _reply(start_response, "200 OK", {"ok": action})


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
