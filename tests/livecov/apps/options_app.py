"""A WSGI app that shows what livecov's options did to the server that runs it."""

import os
import threading
import time
from pathlib import Path

# Each process that loads the app says so: one line per gunicorn worker, and a file named
# after its pid in the server's temporary folder (which /loaded counts).
print(f"options_app loaded in process {os.getpid()}", flush=True)
if "LIVECOV_TMPDIR" in os.environ:
    _loaded = Path(os.environ["LIVECOV_TMPDIR"], "loaded")
    _loaded.mkdir(exist_ok=True)
    (_loaded / str(os.getpid())).touch()


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/threads":
        names = [t.name for t in threading.enumerate() if t.name.startswith("waitress-")]
        body = " ".join(sorted(names))
    elif path == "/env":
        body = os.environ.get("OPTION_VALUE", "unset")
    elif path == "/hooks":
        body = _hooks_file().read_text() if _hooks_file().exists() else ""
    elif path == "/loaded":
        body = str(_wait_until_loaded(int(environ["QUERY_STRING"] or 1)))
    else:
        body = "ok"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]


def _wait_until_loaded(processes, timeout=60):
    """How many processes loaded the app, once ``processes`` have (or ``timeout`` is up).

    The server listens as soon as gunicorn's master binds; its workers boot after that,
    one by one, so a short run could end before the last one has loaded the app.
    """
    deadline = time.monotonic() + timeout
    while len(os.listdir(_loaded)) < processes and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(os.listdir(_loaded))


def _hooks_file():
    return Path(os.environ["LIVECOV_TMPDIR"], "hooks.txt")


def setup_hook():
    with _hooks_file().open("a") as f:
        f.write("setup ")


def reset_hook():
    with _hooks_file().open("a") as f:
        f.write("reset ")
