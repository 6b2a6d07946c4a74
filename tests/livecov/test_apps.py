"""Finding the WSGI app from MODULE:NAME, and calling set-up hooks."""

from __future__ import annotations

import sys
import types
from unittest import mock

import pytest
from flask import Flask

from livecov.errors import AppLoadError, ConfigError
from livecov.server.apps import call_hook, load_app


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


def test_a_factory_whose_default_compares_equal_to_anything_is_a_factory(module) -> None:
    flask_app = Flask("sample")

    def create_app(config=mock.ANY):  # a default with an __eq__ of its own
        return flask_app

    module.create_app = create_app
    assert load_app("sample_apps:create_app") is flask_app


@pytest.mark.parametrize("name", ["app", "application", "create_app", "make_app"])
def test_module_alone_finds_the_usual_names(module, name: str) -> None:
    flask_app = Flask("sample")
    setattr(module, name, (lambda: flask_app) if name.endswith("_app") else flask_app)
    assert load_app("sample_apps") is flask_app


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (":app", "the app ':app' is not of the form MODULE:NAME"),
        (
            "sample_apps:nothing",
            "the app 'sample_apps:nothing': module 'sample_apps' has no attribute 'nothing'; "
            "name an object that exists (MODULE:NAME)",
        ),
        (
            "sample_apps",
            "module 'sample_apps' has none of app, application, create_app, make_app; "
            "name the app as sample_apps:NAME",
        ),
        (
            "sample_apps:number",
            "the app 'sample_apps:number' is a 'int', not a WSGI or ASGI app; "
            "name the app or its factory (MODULE:NAME)",
        ),
        (
            "no_such_module_here:app",
            "the app 'no_such_module_here:app': no module named 'no_such_module_here'; run "
            "livecov from the project's folder, or name the module's folder in [tool.livecov] "
            'pythonpath (a src layout: pythonpath = ["src"])',
        ),
        ("no_such_package.sub:app", "no module named 'no_such_package'; run livecov from"),
    ],
)
def test_names_that_do_not_exist_are_settings_to_fix(module, spec: str, message: str) -> None:
    module.number = 3
    with pytest.raises(ConfigError) as error:
        load_app(spec)
    assert str(error.value) == message or message in str(error.value)
    assert error.value.__cause__ is None  # nothing of the user's to show


def test_a_factory_that_returns_no_app_says_what_it_returned(module) -> None:
    # A factory that forgot its return, or a function that is no factory (a reset hook
    # named as the app): it was called, and what it gave back is no app.
    module.forgot_return = lambda: None
    module.settings = lambda: {"DEBUG": True}
    with pytest.raises(ConfigError) as forgot:
        load_app("sample_apps:forgot_return")
    assert str(forgot.value) == (
        "the app factory 'sample_apps:forgot_return' returned None, not a WSGI or ASGI app; "
        "return the app from it, or name the app or its factory (MODULE:NAME)"
    )
    with pytest.raises(ConfigError) as settings:
        load_app("sample_apps:settings")
    assert str(settings.value).startswith(
        "the app factory 'sample_apps:settings' returned a 'dict', not a WSGI or ASGI app; "
    )


def test_a_module_whose_own_import_fails_is_the_users_error(tmp_path, monkeypatch) -> None:
    (tmp_path / "needs_missing.py").write_text("import not_installed_anywhere\n")
    (tmp_path / "raises_on_import.py").write_text("raise KeyError('SECRET_KEY')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AppLoadError) as missing:
        load_app("needs_missing:app")
    assert str(missing.value) == (
        "importing the app 'needs_missing:app' raised "
        "ModuleNotFoundError: No module named 'not_installed_anywhere'"
    )
    assert isinstance(missing.value.__cause__, ModuleNotFoundError)  # its traceback is shown
    with pytest.raises(AppLoadError) as raising:
        load_app("raises_on_import:app")
    assert str(raising.value) == (
        "importing the app 'raises_on_import:app' raised KeyError: 'SECRET_KEY'"
    )
    assert isinstance(raising.value.__cause__, KeyError)


def test_a_factory_that_raises_is_the_users_error(module) -> None:
    def create_app():
        raise RuntimeError("no database configured")

    module.create_app = create_app
    with pytest.raises(AppLoadError) as error:
        load_app("sample_apps:create_app")
    assert str(error.value) == (
        "the app factory 'sample_apps:create_app' raised RuntimeError: no database configured"
    )
    assert isinstance(error.value.__cause__, RuntimeError)


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
    with pytest.raises(ConfigError, match="the hook 'sample_apps:not_callable' is not callable"):
        call_hook("sample_apps:not_callable", flask_app)
    with pytest.raises(ConfigError, match="the hook 'sample_apps:absent': module 'sample_apps'"):
        call_hook("sample_apps:absent", flask_app)


def test_an_async_hook_is_refused_before_it_is_called(module) -> None:
    """Called without being awaited, it would return a coroutine and reset nothing."""

    async def seed() -> None:
        pass

    module.seed = seed
    with pytest.raises(ConfigError, match=r"'sample_apps:seed' is a coroutine function"):
        call_hook("sample_apps:seed", None)


def test_a_hook_that_raises_is_the_users_error(module) -> None:
    def seed():
        raise ValueError("bad row")

    module.seed = seed
    expected = r"^the hook 'sample_apps:seed' raised ValueError: bad row$"
    with pytest.raises(AppLoadError, match=expected):
        call_hook("sample_apps:seed", Flask("sample"))


class AsgiObject:
    async def __call__(self, scope, receive, send):
        pass


class AsgiWrapper:
    """A middleware that returns the wrapped app's coroutine: a plain ``def``, three args."""

    def __call__(self, scope, receive, send):
        return AsgiObject()(scope, receive, send)


async def asgi_function(scope, receive, send):
    pass


def test_asgi_apps_are_told_from_wsgi_apps() -> None:
    from fastapi import FastAPI
    from quart import Quart
    from starlette.applications import Starlette

    from livecov.server.apps import is_asgi

    asgi_apps = (asgi_function, AsgiObject(), AsgiWrapper(), FastAPI(), Starlette(), Quart("q"))
    for app in asgi_apps:
        assert is_asgi(app), app
    for app in (wsgi, Flask("sample"), AsgiObject, len, object()):  # a class is no app
        assert not is_asgi(app), app


class Asgi2App:
    """ASGI 2: instantiated per connection with its scope, then called."""

    def __init__(self, scope: dict) -> None:
        self.scope = scope

    async def __call__(self, receive, send) -> None: ...


def test_an_asgi2_class_is_no_app_until_wrapped_as_the_readme_says() -> None:
    from asgiref.compatibility import guarantee_single_callable

    from livecov.server.apps import is_asgi

    assert not is_asgi(Asgi2App)
    assert is_asgi(guarantee_single_callable(Asgi2App))
