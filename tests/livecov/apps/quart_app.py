"""A Quart app (Flask's API on asyncio), for livecov's ASGI tests."""

import asyncio

from quart import Quart

app = Quart(__name__)


@app.before_serving
async def open_pool() -> None:
    app.config["POOL"] = "open"  # route: startup


@app.get("/")
async def home() -> str:
    await asyncio.sleep(0)  # route: home
    return f"Quart here, pool {app.config['POOL']}"  # route: home
