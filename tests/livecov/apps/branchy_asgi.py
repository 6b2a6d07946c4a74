"""A small ASGI app for livecov's tests: the twin of ``branchy`` (same routes, same tags).

A line tagged ``# route: NAME [NAME...]`` runs only for those routes; untagged lines
run at import or for every request. No framework: the tests see livecov's layer alone.
"""

import asyncio
import os
import signal
from pathlib import Path
from urllib.parse import parse_qs

# Two requests to /together both finish only if they are inside the app at the same time.
TOGETHER = asyncio.Barrier(2)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    path = scope["path"]
    status = 200
    if path == "/hello":
        body = "Hello"  # route: hello
    elif path == "/square":
        query = parse_qs(scope["query_string"].decode())  # route: square
        number = int(query.get("n", ["0"])[0])  # route: square
        body = str(number * number)  # route: square
    elif path == "/seeded":  # route: seeded crash exit together missing
        body = Path(os.environ["LIVECOV_TMPDIR"], "seed.txt").read_text()  # route: seeded
    elif path == "/crash":  # route: crash exit together missing
        os.kill(os.getpid(), signal.SIGKILL)  # route: crash
        body = "unreachable"  # route: never
    elif path == "/exit":  # route: exit together missing
        os._exit(3)  # route: exit
    elif path == "/together":  # route: together missing
        async with asyncio.timeout(10):  # route: together
            body = str(await TOGETHER.wait())  # route: together
    else:
        status, body = 404, "not found"  # route: missing
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


async def lifespan(receive, send):
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


def create_app():
    return app  # route: factory


def create_stubborn_app():
    """An app that, like some real ones, takes over the stop signals and ignores them.

    It does so at start-up: uvicorn installs its own handlers only once it serves.
    """

    async def stubborn(scope, receive, send):
        if scope["type"] == "lifespan":  # route: stubborn
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # route: stubborn
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # route: stubborn
        await app(scope, receive, send)  # route: stubborn

    return stubborn  # route: stubborn


def seed(app):
    count_file = Path(os.environ["LIVECOV_TMPDIR"], "seed-count.txt")  # route: seed
    count = int(count_file.read_text()) + 1 if count_file.exists() else 1  # route: seed
    count_file.write_text(str(count))  # route: seed
    Path(os.environ["LIVECOV_TMPDIR"], "seed.txt").write_text(f"seeded {count}")  # route: seed
