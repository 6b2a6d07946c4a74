"""Setup and reset hooks that write down how livecov called them (test_hook_convention.py)."""

import json
import os
from pathlib import Path


def _record(hook, args):
    try:
        import flask

        in_app_context = flask.has_app_context()
    except ImportError:
        in_app_context = False
    call = {
        "hook": hook,
        "args": [type(arg).__name__ for arg in args],
        "app_context": in_app_context,
        "pid": os.getpid(),
    }
    with open(Path(os.environ["LIVECOV_TMPDIR"], "hook-calls.jsonl"), "a") as calls:
        calls.write(json.dumps(call) + "\n")


def setup(app):
    _record("setup", [app])


def reset(app):
    _record("reset", [app])


def reset_without_the_app():
    _record("reset_without_the_app", [])
