"""Finding the WSGI app from MODULE:NAME, and calling set-up hooks."""

from __future__ import annotations

import sys
import types

import pytest
from flask import Flask

from livecov.errors import AppLoadError
from livecov.server.apps import call_hook, load_app, load_object


@pytest.fixture
def module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    mod = types.ModuleType("sample_apps")
    monkeypatch.setitem(sys.modules, "sample_apps", mod)
    return mod


def wsgi(environ, start_response):  # a plain-function WSGI app
    start_response("200 OK", [])
    return [b""]


def test_app_object_function_app_and_factory(module) -> None:
    flask_app = Flask("sample")
    module.app = flask_app
    module.wsgi = wsgi
    module.factory = lambda: flask_app
    module.holder = types.SimpleNamespace(inner=flask_app)
    assert load_app("sample_apps:app") is flask_app
    assert load_app("sample_apps:wsgi") is wsgi  # needs arguments: the app itself
    assert load_app("sample_apps:factory") is flask_app  # no arguments: a factory
    assert load_app("sample_apps:holder.inner") is flask_app


@pytest.mark.parametrize("name", ["app", "application", "create_app", "make_app"])
def test_module_alone_finds_the_usual_names(module, name: str) -> None:
    flask_app = Flask("sample")
    setattr(module, name, (lambda: flask_app) if name.endswith("_app") else flask_app)
    assert load_app("sample_apps") is flask_app


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (":app", "is not of the form MODULE:NAME"),
        ("sample_apps:nothing", "module 'sample_apps' has no attribute 'nothing'"),
        ("sample_apps", "has none of app, application, create_app, make_app"),
        ("sample_apps:number", "gave 'int', which is not a WSGI app"),
    ],
)
def test_errors_say_what_is_wrong(module, spec: str, message: str) -> None:
    module.number = 3
    with pytest.raises(AppLoadError, match=message):
        load_app(spec)


def test_missing_module_raises_import_error() -> None:
    with pytest.raises(ModuleNotFoundError):
        load_object("no_such_module_here:app")


def test_hooks_get_the_app_if_they_take_it_and_run_in_its_context(module) -> None:
    from flask import current_app

    flask_app = Flask("sample")
    seen = []
    module.with_arg = lambda app: seen.append(app)
    module.in_context = lambda: seen.append(current_app.name)
    module.not_callable = 5
    call_hook("sample_apps:with_arg", flask_app)
    call_hook("sample_apps:in_context", flask_app)
    call_hook("sample_apps:with_arg", wsgi)  # not a Flask app: no context needed
    assert seen == [flask_app, "sample", wsgi]
    with pytest.raises(AppLoadError, match="is not callable"):
        call_hook("sample_apps:not_callable", flask_app)
