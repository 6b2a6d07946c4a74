"""A FastAPI app of the usual shape, for livecov's ASGI tests.

Async and sync routes, a dependency with clean-up, a lifespan, a WebSocket and an endless
stream. Lines tagged ``# route: NAME`` run only for that route (see tests/livecov/helpers).
"""

import asyncio
import threading
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, StreamingResponse


@asynccontextmanager
async def lifespan(app):
    app.state.ready = True  # route: lifespan-start
    yield
    app.state.ready = False  # route: lifespan-stop


@asynccontextmanager
async def failing_lifespan(app):
    raise RuntimeError("the database is unreachable")  # route: lifespan-fail
    yield  # route: never


async def session():
    opened = {"open": True}  # route: items
    yield opened  # route: items
    opened["open"] = False  # route: items


def build(lifespan=lifespan) -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    @app.get("/items/{number}", response_class=PlainTextResponse)
    async def item(number: int, db: Annotated[dict, Depends(session)]) -> str:
        await asyncio.sleep(0)  # route: items
        return f"item {number}, session open: {db['open']}"  # route: items

    @app.get("/sync", response_class=PlainTextResponse)
    def sync_route() -> str:
        in_thread = threading.current_thread() is not threading.main_thread()  # route: sync
        return f"sync, in a worker thread: {in_thread}"  # route: sync

    # Two endpoints that await in the middle: on one event loop, their requests interleave.
    @app.get("/interleave/left", response_class=PlainTextResponse)
    async def left() -> str:
        for _ in range(5):  # route: interleave-left
            await asyncio.sleep(0.001)  # route: interleave-left
        return "left done"  # route: interleave-left

    @app.get("/interleave/right", response_class=PlainTextResponse)
    async def right() -> str:
        for _ in range(5):  # route: interleave-right
            await asyncio.sleep(0.001)  # route: interleave-right
        return "right done"  # route: interleave-right

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def forever():
            number = 0  # route: stream
            while True:  # route: stream
                number += 1  # route: stream
                yield f"chunk {number}\n"  # route: stream
                await asyncio.sleep(0.01)  # route: stream

        return StreamingResponse(forever(), media_type="text/plain")  # route: stream

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()  # route: ws
        try:
            while True:  # route: ws
                text = await websocket.receive_text()  # route: ws
                await websocket.send_text(f"echo {text}")  # route: ws
        except WebSocketDisconnect:  # route: ws
            pass  # route: ws

    return app


app = build()


def create_failing_app() -> FastAPI:
    return build(lifespan=failing_lifespan)
