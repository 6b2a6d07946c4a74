"""A WSGI app that shows what livecov's options did to the server that runs it."""

import os
import threading
from pathlib import Path

# Each process that loads the app says so: one line per gunicorn worker.
print(f"options_app loaded in process {os.getpid()}", flush=True)


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/threads":
        names = [t.name for t in threading.enumerate() if t.name.startswith("waitress-")]
        body = " ".join(sorted(names))
    elif path == "/env":
        body = os.environ.get("OPTION_VALUE", "unset")
    elif path == "/hooks":
        body = _hooks_file().read_text() if _hooks_file().exists() else ""
    else:
        body = "ok"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]


def _hooks_file():
    return Path(os.environ["LIVECOV_TMPDIR"], "hooks.txt")


def setup_hook():
    with _hooks_file().open("a") as f:
        f.write("setup ")


def reset_hook():
    with _hooks_file().open("a") as f:
        f.write("reset ")
