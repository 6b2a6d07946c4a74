"""The app of figure 8: a FastAPI endpoint that awaits in the middle, as real ones do
(a database call, another service). While it waits, uvicorn's event loop serves others."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/work", response_class=PlainTextResponse)
async def work() -> str:
    total = sum(range(200))
    await asyncio.sleep(0.002)  # the awaited call: 2 ms in which others may run
    return f"done {total}"
