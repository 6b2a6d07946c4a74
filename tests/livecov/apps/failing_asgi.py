"""A Starlette app that fails the ways an ASGI app does, for livecov's app-error tests.

Starlette's (and FastAPI's) error middleware answers an unhandled exception with its own
500 page, then raises the exception again for the server to print.
"""

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request):
    return PlainTextResponse("ok")


async def divide(request):
    return PlainTextResponse(str(1 / 0))


def unavailable(request):  # a 5xx the app chose: counted, never failed
    return PlainTextResponse("down for maintenance", status_code=503)


app = Starlette(
    routes=[Route("/hello", hello), Route("/raise", divide), Route("/unavailable", unavailable)]
)
