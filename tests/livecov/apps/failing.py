"""A WSGI app that fails in the ways livecov must make visible."""

import os
import signal
import sys


def fail(message):
    raise ValueError(message)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/raise":
        return 1 / 0
    if path == "/chained":
        try:
            {}["missing"]
        except KeyError:
            fail("while handling a KeyError")
    if path == "/print":
        query = environ.get("QUERY_STRING", "")
        print(f"the app says {query}", flush=True)
        print(f"and on stderr {query}", file=sys.stderr, flush=True)
    if path == "/print-then-die":
        print("last words before SIGKILL", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    if path == "/unavailable":
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down for maintenance"]
    if path == "/bare-500":  # an error page the app renders itself, its exception not passed
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"something went wrong"]
    if path == "/handled":  # an app that turns its own exception into a 500, as Flask does
        try:
            fail("handled by the app")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
            return [b"sorry"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def create_app():
    raise RuntimeError("the factory needs a database")


def create_loud_stubborn_app():
    """Says when it gets SIGTERM, and goes on serving (only SIGKILL stops it)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: print("ignoring SIGTERM", flush=True))
    return app
