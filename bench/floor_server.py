"""The start-up floor: import the app, build it, bind a socket, answer one request, exit.

No coverage, no livecov, no database set-up: the least any live test server must do before
its first response. ``bench/startup.py`` times spawn -> first response of this against
livecov's ``LiveServer.start()`` + first GET.

    python bench/floor_server.py [--app flaskr:create_app]

Prints the URL on one line once the socket listens, serves exactly one request (any path),
then exits 0. It never listens on anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import importlib
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", default="flaskr:create_app")
    parser.add_argument(
        "--coverage",
        metavar="RCFILE",
        help="measure with coverage.py (this config, parallel data files) from before the "
        "app's import, and save at the end: the floor of any server measured by coverage",
    )
    args = parser.parse_args()
    cov = None
    if args.coverage:
        import coverage

        cov = coverage.Coverage(config_file=args.coverage, data_suffix=True)
        cov.start()
    module_name, _, attr = args.app.partition(":")
    target = getattr(importlib.import_module(module_name), attr or "app")
    app = target() if attr.startswith(("create_", "make_")) else target

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    sys.stdout.write(f"http://127.0.0.1:{server.server_port}\n")
    sys.stdout.flush()
    server.timeout = 30  # bounded: give up if nobody asks
    server.handle_request()
    server.server_close()
    if cov is not None:
        cov.stop()
        cov.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
