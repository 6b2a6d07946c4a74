"""An ASGI app for the exactness test (test_sysmon_contexts.py), the twin of ``exact``:
code that runs in async tasks, a thread, async generators, an exception path, and lines
every route shares. What a request runs depends on its path only (and /resume on how
often it was asked before)."""

import asyncio


def shared(count):
    total = 0
    for number in range(count):
        total += number
    return total


async def squares(count):
    for number in range(count):
        await asyncio.sleep(0)
        yield number * number


async def in_task():
    task = asyncio.create_task(asyncio.to_thread(shared, 4))
    return await task


async def gathered():
    first, second = await asyncio.gather(in_task(), collect(3))
    return first + sum(second)


async def collect(count):
    return [square async for square in squares(count)]


async def caught():
    try:
        raise ValueError("caught")
    except ValueError as error:
        return str(error)


async def boom():
    raise RuntimeError("boom")


# One async generator for the whole process, resumed by each /resume: its body runs
# under the context of whichever request resumes it.
COUNTER = squares(1_000_000)


async def resume():
    return await anext(COUNTER)


ROUTES = {
    "/thread": in_task,
    "/generator": gathered,
    "/caught": caught,
    "/boom": boom,
    "/resume": resume,
    "/stream": lambda: collect(3),
}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    shared(2)
    body = str(await ROUTES[scope["path"]]())
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


async def lifespan(receive, send):
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return
