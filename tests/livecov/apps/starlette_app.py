"""A Starlette app with a start-up hook, for livecov's ASGI tests."""

from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def home(request):
    return PlainTextResponse("Starlette here")  # route: home


@asynccontextmanager
async def lifespan(app):
    app.state.greeting = "hello"  # route: startup
    yield


app = Starlette(routes=[Route("/", home)], lifespan=lifespan)
