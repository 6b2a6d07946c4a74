"""A WSGI app that reports what its server process was started with, for the option table's
test (tests/livecov/test_option_table.py): the spec the server received, its environment,
its sys.path and the hooks it ran.

The spec is the server's own ``ServeSpec`` object, found in the frame that builds the app
(``build_app(spec, ...)`` calls the factory through ``load_app``), whatever the backend.
"""

import dataclasses
import inspect
import json
import os
import sys
from pathlib import Path

print("probe loaded", flush=True)


def _served_spec():
    frame = inspect.currentframe()
    while frame is not None:
        spec = frame.f_locals.get("spec")
        if type(spec).__name__ == "ServeSpec":
            return dataclasses.asdict(spec)
        frame = frame.f_back
    raise LookupError("no ServeSpec in the frames that build the app")


def _hooks_file():
    return Path(os.environ["LIVECOV_TMPDIR"], "probe-hooks.txt")


def _ran(hook):
    with _hooks_file().open("a") as f:
        f.write(hook + "\n")


def setup():
    _ran("setup")


def reset():
    _ran("reset")


def warmup():
    _ran("warmup")


def create_app():
    spec = _served_spec()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/raise":
            raise RuntimeError("probe raised")
        body = {
            "spec": spec,
            "env": os.environ.get("PROBE_ENV"),
            "sys_path": sys.path,
            "hooks": _hooks_file().read_text().split() if _hooks_file().exists() else [],
        }
        print("probe served", flush=True)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return app


def never_called():
    return "a line no run reaches, so no total is 100 %"
