"""A small WSGI app for livecov's tests.

A line tagged ``# route: NAME [NAME...]`` runs only for those routes; untagged lines
run at import or for every request. The tests derive the exact lines a request must
cover from the tags.
"""

import os
import signal
import threading
from pathlib import Path
from urllib.parse import parse_qs

# Two requests to /together both finish only if they are inside the app at the same time.
TOGETHER = threading.Barrier(2)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/hello":
        body = "Hello"  # route: hello
    elif path == "/square":
        query = parse_qs(environ.get("QUERY_STRING", ""))  # route: square
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
        body = str(TOGETHER.wait(timeout=10))  # route: together
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])  # route: missing
        return [b"not found"]  # route: missing
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]


def create_app():
    return app  # route: factory


def create_stubborn_app():
    """An app that, like some real ones, takes over the stop signals and ignores them."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # route: stubborn
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # route: stubborn
    return app  # route: stubborn


def seed(app):
    count_file = Path(os.environ["LIVECOV_TMPDIR"], "seed-count.txt")  # route: seed
    count = int(count_file.read_text()) + 1 if count_file.exists() else 1  # route: seed
    count_file.write_text(str(count))  # route: seed
    Path(os.environ["LIVECOV_TMPDIR"], "seed.txt").write_text(f"seeded {count}")  # route: seed
