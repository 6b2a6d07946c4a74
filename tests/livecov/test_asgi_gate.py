"""The async context gate and the ASGI layer, on one event loop, in this process.

Every visitor here is a task on the same loop, as requests are under uvicorn. Whether a
task got in is checked after the loop has run everything that was ready (``settle``):
with a single loop and no I/O that is exact, not a matter of timing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from a2wsgi import WSGIMiddleware

from livecov.server.asgi import AsyncContextGate, LivecovAsgiMiddleware
from livecov.server.wsgi import Alone, Visitor


async def settle() -> None:
    """Let every task that can run, run, until none can."""
    for _ in range(20):
        await asyncio.sleep(0)


class Visit:
    """A task inside the gate until released."""

    def __init__(self, gate: AsyncContextGate, context: Visitor) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.task = asyncio.create_task(self._run(gate, context))

    async def _run(self, gate: AsyncContextGate, context: Visitor) -> None:
        await gate.enter(context)
        try:
            self.entered.set()
            await self.release.wait()
        finally:
            gate.leave()

    async def leave(self) -> None:
        self.release.set()
        await self.task


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``test`` on an event loop of its own, in a thread of its own (in this one,
    pytest-playwright's sync API may have a loop running already)."""
    with ThreadPoolExecutor(1) as executor:
        executor.submit(asyncio.run, asyncio.wait_for(test(), timeout=10)).result()


def test_same_context_runs_together_without_switching() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        first, second = Visit(gate, "a"), Visit(gate, "a")
        await settle()
        assert first.entered.is_set()
        assert second.entered.is_set()
        await first.leave()
        await second.leave()
        assert switches == ["a"]

    run(scenario)


def test_another_context_waits_until_everyone_left_then_switches() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        a = Visit(gate, "a")
        await settle()
        b = Visit(gate, "b")
        await settle()
        assert not b.entered.is_set()  # "a" is inside
        await a.leave()
        await settle()
        assert b.entered.is_set()
        await b.leave()
        assert switches == ["a", "b"]

    run(scenario)


def test_a_waiting_context_goes_before_any_number_of_newcomers() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        a1 = Visit(gate, "a")
        await settle()
        b = Visit(gate, "b")
        await settle()
        newcomers = [Visit(gate, "a") for _ in range(10)]  # the context inside, after "b"
        await settle()
        assert not b.entered.is_set()
        assert not any(n.entered.is_set() for n in newcomers)
        await a1.leave()
        await settle()
        assert b.entered.is_set()
        assert not any(n.entered.is_set() for n in newcomers)
        await b.leave()
        await settle()
        assert all(n.entered.is_set() for n in newcomers)  # all at once: one switch back
        for n in newcomers:
            await n.leave()
        assert switches == ["a", "b", "a"]

    run(scenario)


def test_an_exclusive_visit_runs_alone() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        reset = Visit(gate, Alone("live-server"))
        await settle()
        same = Visit(gate, "live-server")  # even the context being recorded waits
        await settle()
        assert reset.entered.is_set()
        assert not same.entered.is_set()
        await reset.leave()
        await settle()
        assert same.entered.is_set()
        await same.leave()
        assert switches == []

    run(scenario)


def test_a_waiter_that_is_cancelled_leaves_the_queue_and_holds_nobody_up() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        a = Visit(gate, "a")
        await settle()
        b = Visit(gate, "b")
        await settle()
        a2 = Visit(gate, "a")  # behind "b"
        await settle()
        assert not a2.entered.is_set()
        b.task.cancel()  # its client went away while it waited
        await settle()
        assert a2.entered.is_set()  # nobody waits before it any more
        assert b.task.cancelled()
        await a.leave()
        await a2.leave()
        assert switches == ["a"]  # never switched for "b"

    run(scenario)


def test_a_waiter_cancelled_while_the_gate_admits_it_is_skipped() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        await gate.enter("a")
        b = Visit(gate, "b")
        await settle()
        b.task.cancel()  # cancelled ...
        gate.leave()  # ... and before its task ran again, the gate emptied
        await settle()
        assert b.task.cancelled()
        assert not b.entered.is_set()
        c = Visit(gate, "c")
        await settle()
        assert c.entered.is_set()
        await c.leave()
        assert switches == ["a", "c"]

    run(scenario)


def test_a_waiter_queued_behind_a_cancelled_one_is_let_in_when_the_gate_empties() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        await gate.enter("a")
        b = Visit(gate, "b")
        c = Visit(gate, "c")  # queued behind b
        await settle()
        b.task.cancel()  # cancelled, still at the head of the queue ...
        gate.leave()  # ... when the gate empties: c goes in past it
        await settle()
        assert c.entered.is_set()
        await c.leave()
        assert switches == ["a", "c"]

    run(scenario)


def test_a_waiter_admitted_then_cancelled_gives_its_place_back() -> None:
    async def scenario() -> None:
        switches: list[str] = []
        gate = AsyncContextGate("live-server", switch=switches.append)
        await gate.enter("a")
        b = Visit(gate, "b")
        await settle()
        gate.leave()  # "b" is admitted ...
        b.task.cancel()  # ... and cancelled before it could go on
        await settle()
        assert b.task.cancelled()
        assert not b.entered.is_set()
        c = Visit(gate, "c")
        await settle()
        assert c.entered.is_set()  # "b" did not keep its place
        await c.leave()
        assert switches == ["a", "b", "c"]

    run(scenario)


# -- the ASGI layer, driven as a server drives it --------------------------------------


class Exchange:
    """What an ASGI server does for one connection: messages in, messages out."""

    def __init__(self, *incoming: dict) -> None:
        self.incoming: asyncio.Queue[dict] = asyncio.Queue()
        for message in incoming:
            self.incoming.put_nowait(message)
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        return await self.incoming.get()

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def body(self) -> dict:
        return json.loads(self.sent[1]["body"])


def http(path: str, method: str = "GET", headers: dict[str, str] | None = None) -> dict:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return {"type": "http", "path": path, "method": method, "headers": raw}


async def hello(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["type"].encode()})


def middleware(
    app=hello, contexts: bool = True, switches: list[str] | None = None, **actions
) -> LivecovAsgiMiddleware:
    """The ASGI layer, its context switches recorded in ``switches`` (not this run's)."""
    layer = LivecovAsgiMiddleware(app, "the-token", actions, contexts=contexts)
    record = switches if switches is not None else []
    layer.gate = AsyncContextGate("live-server", switch=record.append)
    return layer


def test_control_endpoints_need_post_a_known_action_and_the_token() -> None:
    done: list[str] = []
    layer = middleware(reset=lambda: done.append("reset"), shutdown=lambda: done.append("stop"))
    token = {"Livecov-Token": "the-token"}

    async def call(scope: dict) -> Exchange:
        exchange = Exchange()
        await layer(scope, exchange.receive, exchange.send)
        return exchange

    async def scenario() -> None:
        unknown = await call(http("/__livecov__/explode", "POST", token))
        assert (unknown.status, unknown.body) == (404, {"error": "no such livecov action"})
        for method in ("GET", "PUT"):  # sorting before "POST", and after
            refused = await call(http("/__livecov__/reset", method, token))
            assert refused.status == 405
            assert (b"allow", b"POST") in refused.sent[0]["headers"]
        assert (await call(http("/__livecov__/reset", "POST"))).status == 403
        forged = await call(http("/__livecov__/reset", "POST", {"Livecov-Token": "guess"}))
        assert forged.status == 403
        assert done == []
        reset = await call(http("/__livecov__/reset", "POST", token))
        assert (reset.status, reset.body, done) == (200, {"ok": "reset"}, ["reset"])
        stop = await call(http("/__livecov__/shutdown", "POST", token))
        assert (stop.status, stop.body) == (202, {"ok": "shutdown"})
        assert done == ["reset", "stop"]

    run(scenario)


def test_a_reset_hook_that_raises_answers_500_with_its_line_and_prints_its_traceback(
    capsys,
) -> None:
    def reset() -> None:
        raise RuntimeError("cannot reset")

    layer = middleware(reset=reset)

    async def scenario() -> None:
        exchange = Exchange()
        token = {"Livecov-Token": "the-token", "Livecov-Context": "t1"}
        await layer(http("/__livecov__/reset", "POST", token), exchange.receive, exchange.send)
        assert (exchange.status, exchange.body) == (500, {"error": "cannot reset"})
        after = Exchange()  # the reset gave its place back: a request still gets in
        await layer(http("/", "GET", {"Livecov-Context": "t2"}), after.receive, after.send)
        assert after.status == 200

    run(scenario)
    err = capsys.readouterr().err
    assert "Exception on POST /__livecov__/reset (Livecov-Context: t1):" in err
    assert 'raise RuntimeError("cannot reset")' in err


def test_the_reset_action_runs_alone() -> None:
    layer = middleware(reset=lambda: None)

    async def scenario() -> None:
        inside = Visit(layer.gate, "a")
        await settle()
        exchange = Exchange()
        reset = asyncio.create_task(
            layer(
                http("/__livecov__/reset", "POST", {"Livecov-Token": "the-token"}),
                exchange.receive,
                exchange.send,
            )
        )
        await settle()
        assert exchange.sent == []  # waits for the request inside
        await inside.leave()
        await reset
        assert exchange.status == 200

    run(scenario)


@pytest.mark.parametrize(
    ("contexts", "headers", "expected"),
    [
        (True, {"Livecov-Context": "t2"}, ["t1", "t2"]),
        (True, {}, ["t1", "live-server"]),  # never t1's
        (False, {"Livecov-Context": "t2"}, []),  # unmeasured: nothing to switch
    ],
)
def test_a_reset_records_under_the_context_it_names_else_live_server(
    contexts: bool, headers: dict[str, str], expected: list[str]
) -> None:
    switches: list[str] = []
    layer = middleware(reset=lambda: None, contexts=contexts, switches=switches)

    async def scenario() -> None:
        before = Exchange()
        await layer(http("/", headers={"Livecov-Context": "t1"}), before.receive, before.send)
        exchange = Exchange()
        token = {"Livecov-Token": "the-token", **headers}
        await layer(http("/__livecov__/reset", "POST", token), exchange.receive, exchange.send)
        assert exchange.status == 200

    run(scenario)
    assert switches == expected


def test_requests_pass_straight_through_without_contexts_and_other_scopes_always() -> None:
    switches: list[str] = []
    layer = middleware(contexts=False, switches=switches)

    async def scenario() -> None:
        exchange = Exchange()
        await layer(http("/", headers={"Livecov-Context": "t"}), exchange.receive, exchange.send)
        assert exchange.sent[1]["body"] == b"http"
        other = Exchange()
        await middleware()({"type": "telepathy"}, other.receive, other.send)
        assert other.sent[1]["body"] == b"telepathy"

    run(scenario)
    assert switches == []


def test_the_asgi_layer_records_contexts_by_default() -> None:
    switches: list[str] = []
    layer = LivecovAsgiMiddleware(hello, "the-token", {})  # contexts left to the default
    layer.gate = AsyncContextGate("live-server", switch=switches.append)

    async def scenario() -> None:
        exchange = Exchange()
        await layer(http("/", headers={"Livecov-Context": "t-1"}), exchange.receive, exchange.send)

    run(scenario)
    assert switches == ["t-1"]


@pytest.mark.parametrize(
    ("headers", "context"),
    [({"Accept": "*/*", "Livecov-Context": "t-1"}, "t-1"), ({"Accept": "*/*"}, None)],
)
def test_a_request_runs_under_its_context(headers: dict[str, str], context: Visitor) -> None:
    switches: list[str] = []
    layer = middleware(switches=switches)

    async def scenario() -> None:
        exchange = Exchange()
        await layer(http("/", headers=headers), exchange.receive, exchange.send)

    run(scenario)
    assert switches == ([context] if context else [])  # no header: live-server, as it was


async def streamer(scope, receive, send) -> None:
    """Three chunks of a streamed response, or a WebSocket that echoes one message."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": "echo " + message["text"]})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"1", "more_body": True})
    await send({"type": "http.response.body", "body": b"2", "more_body": True})
    await send({"type": "http.response.body", "body": b"3"})


def slow_chunk(exchange: Exchange, body: bytes) -> tuple[Callable, asyncio.Event, asyncio.Event]:
    """A ``send`` whose client is slow to take the chunk ``body``: (send, the chunk is on
    its way, let it go)."""
    on_its_way, go_on = asyncio.Event(), asyncio.Event()

    async def send(message: dict) -> None:
        exchange.sent.append(message)
        if message.get("body") == body:
            on_its_way.set()
            await go_on.wait()

    return send, on_its_way, go_on


async def visit_during_chunk(
    layer: Any, exchange: Exchange, body: bytes
) -> tuple[asyncio.Task, asyncio.Event, Visit]:
    """The stream of "s" starts; while its chunk ``body`` is on its way, "b" arrives:
    (the stream's task, let the chunk go, b's visit)."""
    send, on_its_way, go_on = slow_chunk(exchange, body)
    stream = asyncio.create_task(
        layer(http("/", headers={"Livecov-Context": "s"}), exchange.receive, send)
    )
    await on_its_way.wait()
    other = Visit(layer.gate, "b")
    await settle()
    return stream, go_on, other


def test_a_stream_gives_its_place_back_while_a_chunk_after_its_first_goes_out() -> None:
    switches: list[str] = []
    layer = middleware(app=streamer, switches=switches)

    async def scenario() -> None:
        exchange = Exchange()
        stream, go_on, other = await visit_during_chunk(layer, exchange, b"2")
        assert other.entered.is_set()  # got through while the chunk was on its way
        go_on.set()
        await settle()
        assert len(exchange.sent) == 3  # the stream waits for "b" before its code goes on
        await other.leave()
        await stream
        assert [m.get("body") for m in exchange.sent] == [None, b"1", b"2", b"3"]

    run(scenario)
    assert switches == ["s", "b", "s"]


def test_a_responses_first_chunk_goes_out_with_its_place_held() -> None:
    # The shape of every WSGI app's response through a2wsgi: one chunk, then the end.
    # Giving the place back around that chunk let the next test in, then switched back for
    # the rest of the response and forward again: three context switches instead of one.
    switches: list[str] = []
    layer = middleware(app=streamer, switches=switches)

    async def scenario() -> None:
        exchange = Exchange()
        stream, go_on, other = await visit_during_chunk(layer, exchange, b"1")
        assert not other.entered.is_set()  # the first chunk holds the place
        go_on.set()
        await other.entered.wait()  # let in once the stream gave its place back at chunk 2
        await other.leave()
        await stream

    run(scenario)
    assert switches == ["s", "b", "s"]


def test_a_wsgi_apps_response_through_a2wsgi_switches_the_context_once() -> None:
    def page(environ: dict, start_response: Callable) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"page of " + environ["HTTP_LIVECOV_CONTEXT"].encode()]

    switches: list[str] = []
    layer = middleware(app=WSGIMiddleware(page), switches=switches)

    def request(context: str) -> dict:
        scope = http("/", headers={"Livecov-Context": context})
        return {**scope, "query_string": b"", "http_version": "1.1"}

    async def scenario() -> None:
        first, second = Exchange(), Exchange()
        send, chunk_on_its_way, go_on = slow_chunk(first, b"page of a")
        a = asyncio.create_task(layer(request("a"), first.receive, send))
        await chunk_on_its_way.wait()
        b = asyncio.create_task(layer(request("b"), second.receive, second.send))
        await settle()  # "b" waits for the gate
        go_on.set()
        await asyncio.gather(a, b)
        assert [m.get("body") for m in second.sent] == [None, b"page of b", b""]

    run(scenario)
    assert switches == ["a", "b"]


def test_a_websocket_gives_its_place_back_while_it_waits_for_its_client() -> None:
    layer = middleware(app=streamer)
    scope = {"type": "websocket", "path": "/ws", "headers": [(b"livecov-context", b"w")]}

    async def scenario() -> None:
        exchange = Exchange({"type": "websocket.connect"})
        socket = asyncio.create_task(layer(scope, exchange.receive, exchange.send))
        await settle()
        assert exchange.sent == [{"type": "websocket.accept"}]  # waits for a message now
        other = Visit(layer.gate, "b")
        await settle()
        assert other.entered.is_set()
        exchange.incoming.put_nowait({"type": "websocket.receive", "text": "hi"})
        await settle()
        assert len(exchange.sent) == 1  # "b" is inside: the socket's code waits its turn
        await other.leave()
        await socket
        assert exchange.sent[-1] == {"type": "websocket.send", "text": "echo hi"}

    run(scenario)


async def lifespan_app(scope, receive, send) -> None:
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


def test_without_contexts_the_lifespan_runs_as_it_is() -> None:
    switches: list[str] = []
    layer = middleware(app=lifespan_app, contexts=False, switches=switches)

    async def scenario() -> None:
        exchange = Exchange({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
        await layer({"type": "lifespan"}, exchange.receive, exchange.send)
        assert [m["type"] for m in exchange.sent] == [
            "lifespan.startup.complete",
            "lifespan.shutdown.complete",
        ]

    run(scenario)
    assert switches == []


def test_without_contexts_a_reset_after_the_lifespan_start_up_still_runs() -> None:
    # The lifespan took no place in the gate, so it gives none back: the reset, which waits
    # for the gate to be empty, still gets in.
    done: list[str] = []
    layer = middleware(app=lifespan_app, contexts=False, reset=lambda: done.append("reset"))

    async def scenario() -> None:
        lifespan_exchange = Exchange({"type": "lifespan.startup"})
        lifespan = asyncio.create_task(
            layer({"type": "lifespan"}, lifespan_exchange.receive, lifespan_exchange.send)
        )
        await settle()
        assert lifespan_exchange.sent == [{"type": "lifespan.startup.complete"}]
        exchange = Exchange()
        reset = http("/__livecov__/reset", "POST", {"Livecov-Token": "the-token"})
        await asyncio.wait_for(layer(reset, exchange.receive, exchange.send), timeout=5)
        assert (exchange.status, done) == (200, ["reset"])
        lifespan_exchange.incoming.put_nowait({"type": "lifespan.shutdown"})
        await lifespan

    run(scenario)


def test_a_lifespan_that_starts_and_shuts_down_reports_one_start_and_no_failure() -> None:
    reports: list[str] = []
    layer = middleware(app=lifespan_app)
    layer.started = lambda: reports.append("started")
    layer.startup_failed = lambda message: reports.append(f"failed: {message}")

    async def scenario() -> None:
        exchange = Exchange({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
        await layer({"type": "lifespan"}, exchange.receive, exchange.send)

    run(scenario)
    assert reports == ["started"]  # the shut-down's answer is no start-up failure


def test_lifespan_reports_start_up_and_shut_down_waits_for_requests_inside() -> None:
    switches: list[str] = []
    layer = middleware(app=lifespan_app, switches=switches)
    started: list[bool] = []
    layer.started = lambda: started.append(True)

    async def scenario() -> None:
        exchange = Exchange({"type": "lifespan.startup"})
        lifespan = asyncio.create_task(layer({"type": "lifespan"}, exchange.receive, exchange.send))
        await settle()
        assert started == [True]
        request = Visit(layer.gate, "t")
        await settle()
        exchange.incoming.put_nowait({"type": "lifespan.shutdown"})
        await settle()
        assert exchange.sent == [{"type": "lifespan.startup.complete"}]  # waits for "t"
        await request.leave()
        await lifespan
        assert exchange.sent[-1] == {"type": "lifespan.shutdown.complete"}

    run(scenario)
    assert switches == ["t", "live-server"]  # shut-down is recorded under live-server
    assert started == [True]  # once


def test_a_failed_start_up_is_reported_with_the_apps_message() -> None:
    async def failing(scope, receive, send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "Traceback...\nOops: no db"})

    layer = middleware(app=failing)
    failures: list[str] = []
    layer.startup_failed = failures.append
    layer.started = lambda: failures.append("started?!")

    async def scenario() -> None:
        exchange = Exchange({"type": "lifespan.startup"})
        await layer({"type": "lifespan"}, exchange.receive, exchange.send)

    run(scenario)
    assert failures == ["Traceback...\nOops: no db"]


def test_an_app_without_lifespan_support_is_ready_as_it_is() -> None:
    layer = middleware()  # answers every scope as if it were HTTP, never with .complete
    started: list[bool] = []
    layer.started = lambda: started.append(True)

    async def no_lifespan(scope, receive, send) -> None:
        raise RuntimeError("only HTTP here")

    layer.app = no_lifespan

    async def scenario() -> None:
        exchange = Exchange({"type": "lifespan.startup"})
        with pytest.raises(RuntimeError):
            await layer({"type": "lifespan"}, exchange.receive, exchange.send)

    run(scenario)
    assert started == [True]
