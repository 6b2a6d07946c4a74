"""The ASGI layer livecov puts in front of the app inside the test server.

The same two jobs as the WSGI layer (:mod:`livecov.server.wsgi`), for apps that run on an
event loop:

* **Attribution.** A request's ``Livecov-Context`` header names the coverage context its
  lines are recorded under. Contexts are process-wide and coroutines interleave at every
  ``await``, so the gate is async (:class:`AsyncContextGate`): requests of the context
  being recorded run together, a request of another context waits (without blocking the
  loop) until they are all done, then the context switches. Code a request runs in the
  framework's thread pool (FastAPI's ``def`` routes) runs while the request is inside, so
  it counts for it too.
* **Control.** ``POST /__livecov__/shutdown`` and ``POST /__livecov__/reset``, with this
  run's ``Livecov-Token``.
* **App errors.** A request the app answers with a 5xx, or one that raises, is recorded
  once (:mod:`livecov.server.app_errors`), with its exception, before its client has the
  whole answer. An HTTP request that raised is printed and answered here (500, unless an
  answer went out already), as the WSGI layer does; a WebSocket's exception goes on to the
  server, which closes the socket.

Long-lived connections: a WebSocket, or a response streamed in chunks, gives its place
back while it waits on the network -- around each chunk it streams after its first, each
message it sends and each message it waits for -- and takes it again, in turn, before its
code goes on. Every line it runs is still recorded under its own context, and other
contexts get through between its messages, so an endless stream or an idle socket never
holds the gate.

Lifespan: start-up and shut-down run under ``live-server``; shut-down waits for the
requests still inside. ``started`` is called once the app has started (or has no lifespan),
``startup_failed`` with the app's message when its start-up failed.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from livecov.protocol import CONTEXT_HEADER, CONTROL_PREFIX, DEFAULT_CONTEXT, TOKEN_HEADER
from livecov.server.app_errors import AppErrorLog, print_request_error
from livecov.server.wsgi import Alone, GateState, Visitor, clean_context

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_Waiter = tuple[Visitor, "asyncio.Future[None]"]  # who waits, and its wake-up call

# Messages around which a long-lived connection gives its place in the gate back.
_PARKING_SENDS = frozenset({"websocket.send"})


class AsyncContextGate(GateState):
    """Admits requests of one coverage context at a time, any number of them at once.

    The asyncio twin of :class:`livecov.server.wsgi.ContextGate` (the same rules,
    :class:`livecov.server.wsgi.GateState`; first come first served). Everything runs on
    the event loop's thread, so no lock is needed; waiters are futures, so waiting never
    blocks the loop.
    """

    def __init__(self, context: str, switch: Callable[[str], None] | None = None) -> None:
        super().__init__(context, switch)
        self._queue: collections.deque[_Waiter] = collections.deque()

    async def enter(self, visitor: Visitor) -> None:
        if not self._queue and self._may_join(visitor):
            self._let_in(visitor)
            return
        waiter = asyncio.get_running_loop().create_future()
        entry = (visitor, waiter)
        self._queue.append(entry)
        self._admit()
        try:
            await waiter
        except BaseException:  # cancelled (the client went away, or the server stops)
            if entry in self._queue:
                self._queue.remove(entry)
                self._admit()  # it may have held up the others behind it
            elif not waiter.cancelled():
                self.leave()  # admitted just before the cancellation: give the place back
            raise

    def leave(self) -> None:
        self._let_out()
        self._admit()

    def _admit(self) -> None:
        """Let in the waiters at the head of the queue that may go in now."""
        while self._queue:
            visitor, waiter = self._queue[0]
            if waiter.cancelled():  # its task is on its way out (see enter)
                self._queue.popleft()
                continue
            if self._inside and not self._may_join(visitor):
                return
            self._queue.popleft()
            self._let_in(visitor)
            waiter.set_result(None)


class _Seat:
    """One request's or connection's place in the gate, which it may give back for a while."""

    def __init__(self, gate: AsyncContextGate, visitor: Visitor) -> None:
        self.gate = gate
        self.visitor = visitor
        self.held = False

    async def take(self) -> None:
        await self.gate.enter(self.visitor)
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.gate.leave()

    def parking_send(self, send: Send) -> Send:
        """``send`` that gives the place back while a stream's chunk or a socket's message goes.

        A response's first chunk goes out with the place held, so a body sent as one chunk
        then its end (every WSGI app's response through a2wsgi) runs in one visit like any
        other request: giving the place back around that chunk let the next test in, then
        switched back for the end of the response and forward again, three context switches
        instead of one. A stream gives its place back from its second chunk on.
        """
        streaming = False  # a chunk of the response's body has gone out

        async def parked_send(message: Message) -> None:
            nonlocal streaming
            if not _parks(message, streaming):
                if message["type"] == "http.response.body":
                    streaming = True
                return await send(message)
            self.give_back()
            try:
                await send(message)
            finally:
                await self.take()

        return parked_send

    def parking_receive(self, receive: Receive) -> Receive:
        """``receive`` that gives the place back while a WebSocket waits for its client."""

        async def parked_receive() -> Message:
            self.give_back()
            try:
                return await receive()
            finally:
                await self.take()

        return parked_receive


def _parks(message: Message, streaming: bool) -> bool:
    """Whether ``message`` goes out with the place given back; ``streaming``: a chunk of the
    response's body has gone out already."""
    kind = message["type"]
    return kind in _PARKING_SENDS or (
        kind == "http.response.body" and streaming and bool(message.get("more_body", False))
    )


class LivecovAsgiMiddleware:
    """Wrap the ASGI ``app``; ``actions`` maps control names to callables.

    ``started`` and ``startup_failed`` are set by the backend that serves it (they report
    to the test process). The coverage context is ``DEFAULT_CONTEXT`` when this is built.
    """

    def __init__(
        self,
        app: ASGIApp,
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
        self.gate = AsyncContextGate(DEFAULT_CONTEXT)
        # Run after a control action, outside the gate and the event loop (the reset of
        # the other workers, which may ask this one's loop to run theirs meanwhile).
        self.after_action: dict[str, Callable[[str], None]] = {}  # given the action's context
        self.loop: asyncio.AbstractEventLoop | None = None  # the server's, once it starts
        self.worker_resets: Any = None  # a WorkerResets, when several workers serve
        self.started: Callable[[], None] = lambda: None
        self.startup_failed: Callable[[str], None] = lambda message: None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            return await self._lifespan(scope, receive, send)
        if kind == "http" and scope["path"].startswith(CONTROL_PREFIX):
            return await self._control(scope, send)
        if kind not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        context = self._context_of(scope)
        watch = _ErrorWatch(self.errors, scope, context)
        try:
            if self.contexts:
                await self._visit(scope, receive, watch.sending(send), context)
            else:
                await self.app(scope, receive, watch.sending(send))
        except Exception as exc:
            if kind == "websocket":
                await watch.done(exc)
                raise  # the server closes the socket, as for any app's error
            return await watch.answer_failure(exc, send)
        await watch.done(None)

    async def _visit(self, scope: Scope, receive: Receive, send: Send, context: str) -> None:
        """Run the request with its place in the gate held (given back around the waits
        of a stream or a WebSocket)."""
        seat = _Seat(self.gate, context)
        await seat.take()
        try:
            if scope["type"] == "websocket":
                receive = seat.parking_receive(receive)
            await self.app(scope, receive, seat.parking_send(send))
        finally:
            seat.give_back()

    @staticmethod
    def _context_of(scope: Scope) -> str:
        return clean_context(_header(scope, CONTEXT_HEADER))

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        seat = _Seat(self.gate, DEFAULT_CONTEXT)
        answered = False

        async def lifespan_receive() -> Message:
            message = await receive()
            if self.contexts:  # start-up and shut-down run under live-server, alone
                await seat.take()
            return message

        async def lifespan_send(message: Message) -> None:
            nonlocal answered
            seat.give_back()
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                answered = True
                self.started()
            elif message["type"] == "lifespan.startup.failed":
                answered = True
                self.startup_failed(str(message.get("message", "")))

        try:
            await self.app(scope, lifespan_receive, lifespan_send)
        finally:
            seat.give_back()
            if not answered:  # an app without lifespan support is ready as it is
                self.started()

    async def _control(self, scope: Scope, send: Send) -> None:
        action = scope["path"][len(CONTROL_PREFIX) :]
        if action not in self.actions:
            return await _reply(send, 404, {"error": "no such livecov action"})
        if scope["method"] != "POST":
            return await _reply(send, 405, {"error": "use POST"}, [(b"allow", b"POST")])
        given = _header(scope, TOKEN_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return await _reply(send, 403, {"error": "bad or missing token"})
        if action == "shutdown":
            await _reply(send, 202, {"ok": action})  # stop only once the answer has gone out
            self.actions[action]()
            return None
        # Alone: no request runs while the app is reset; its lines count for the test that
        # asked (its context header), else for live-server, never for the test before it.
        context = self._context_of(scope) if self.contexts else DEFAULT_CONTEXT
        try:
            await self._alone(self.actions[action], context)
            if action in self.after_action:
                await asyncio.to_thread(self.after_action[action], context)
        except Exception as exc:  # the app's hook: its traceback here, its line to the client
            environ = {"REQUEST_METHOD": scope["method"], "PATH_INFO": scope["path"]}
            print_request_error(environ, context, exc)
            return await _reply(send, 500, {"error": str(exc)})
        return await _reply(send, 200, {"ok": action})

    async def _alone(self, action: Callable[[], None], context: str) -> None:
        """Run ``action`` with no request inside, in a thread of its own: a hook is plain
        code, which may refuse to run inside an event loop (Django's ORM does), and the
        gate keeps every request out meanwhile."""
        seat = _Seat(self.gate, Alone(context))
        await seat.take()
        try:
            await asyncio.to_thread(action)
        finally:
            seat.give_back()

    def run_alone(self, action: Callable[[], None], context: str) -> None:
        """Run ``action`` with no request inside, asked from another thread than the event
        loop's (the server has started: its lifespan began), its lines recorded under
        ``context``."""
        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(self._alone(action, context), self.loop).result()


class _ErrorWatch:
    """Records a request the app answered with a 5xx, or that raised, once, in the app
    error log, before its client has the whole answer.

    Starlette's and FastAPI's error middleware answers an unhandled exception with a 500
    page, then raises it again for the server to print: the end of a 5xx answer is held
    until the app is done, so its record names the exception that came after it.
    """

    def __init__(self, errors: AppErrorLog | None, scope: Scope, context: str) -> None:
        self.errors = errors
        self.environ = {"REQUEST_METHOD": scope.get("method", "GET"), "PATH_INFO": scope["path"]}
        self.context = context
        self.status = 0  # of the answer, once it started
        self.held: tuple[Send, Message] | None = None  # a 5xx answer's end

    def sending(self, send: Send) -> Send:
        """``send``, noting the answer's status and, with an error log, holding back the
        end of a 5xx answer (see :meth:`done`)."""

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif self.errors is not None and self.status >= 500 and _ends_the_answer(message):
                self.held = (send, message)
                return
            await send(message)

        return watched_send

    async def answer_failure(self, exc: Exception, send: Send) -> None:
        """The app raised ``exc`` on an HTTP request: print it and answer here, as the WSGI
        layer does (every server prints the same thing: the request and its context, then
        the traceback without livecov's frames); record it; 500, unless an answer went out."""
        print_request_error(self.environ, self.context, exc)
        await self.done(exc)
        if not self.status:
            await _reply_error(send)

    async def done(self, exc: Exception | None) -> None:
        """The app returned, or raised ``exc``: record a failure, then end the answer."""
        if self.errors is None:
            return
        if exc is not None or self.status >= 500:
            status = self.status if self.status >= 500 else 500  # the server's, if it raised
            self.errors.record(status, self.environ, self.context, exc)
        if self.held is not None:
            send, message = self.held
            await send(message)


async def _reply_error(send: Send) -> None:
    """The 500 answer to a request whose app raised before it answered (the WSGI layer's)."""
    body = b"Internal Server Error"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _ends_the_answer(message: Message) -> bool:
    return message["type"] == "http.response.body" and not message.get("more_body", False)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode()
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            text: str = value.decode("latin-1")
            return text
    return None


async def _reply(
    send: Send, status: int, body: dict[str, str], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": data})
