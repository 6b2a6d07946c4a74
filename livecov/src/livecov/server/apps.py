"""Find a WSGI or ASGI application from a ``module:name`` string, as ``flask --app`` does."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
import traceback
from collections.abc import Callable
from typing import Any

from livecov.errors import AppLoadError, ConfigError

DEFAULT_NAMES = ("app", "application", "create_app", "make_app")


def load_object(spec: str, what: str = "the app") -> Any:
    """Import ``module:attr`` (the attribute may be dotted) and return it.

    A name that does not exist is a ConfigError (a setting to fix); an exception raised by
    the module's own code is an AppLoadError whose cause is that exception.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise ConfigError(f"{what} {spec!r} is not of the form MODULE:NAME")
    module = _import(module_name, spec, what)
    if not attr:
        return module
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(
                f"{what} {spec!r}: module {module_name!r} has no attribute {attr!r}; "
                "name an object that exists (MODULE:NAME)"
            ) from None
    return obj


def _import(module_name: str, spec: str, what: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):  # not found itself
            raise ConfigError(
                f"{what} {spec!r}: no module named {exc.name!r}; run livecov from the "
                "project's folder, or name the module's folder in [tool.livecov] pythonpath "
                '(a src layout: pythonpath = ["src"])'
            ) from None
        raise AppLoadError(f"importing {what} {spec!r} raised {_one_line(exc)}") from exc
    except Exception as exc:
        raise AppLoadError(f"importing {what} {spec!r} raised {_one_line(exc)}") from exc


def _kind(value: object) -> str:
    """``None``, or ``a 'dict'``: what a factory returned, for a message."""
    return "None" if value is None else f"a {type(value).__name__!r}"


def _one_line(exc: BaseException) -> str:
    """``KeyError: 'x'``: the last line of the exception's traceback."""
    return traceback.format_exception_only(exc)[-1].strip()


def load_app(spec: str) -> Callable[..., Any]:
    """Return the app named by ``spec``; a factory function is called with no arguments.

    A function that can be called with no arguments is a factory; a function that needs
    arguments (``environ, start_response`` or ``scope, receive, send``) is the app itself.
    ``module`` alone looks for ``app``, ``application``, ``create_app`` or ``make_app``.
    """
    target = load_object(spec)
    if inspect.ismodule(target):
        target = _default_app(target, spec)
    if _is_factory(target):
        try:
            target = target()
        except Exception as exc:
            raise AppLoadError(f"the app factory {spec!r} raised {_one_line(exc)}") from exc
        if not callable(target):  # a factory that forgot its return, or a plain function
            raise ConfigError(
                f"the app factory {spec!r} returned {_kind(target)}, not a WSGI or ASGI app; "
                "return the app from it, or name the app or its factory (MODULE:NAME)"
            )
    if not callable(target):
        raise ConfigError(
            f"the app {spec!r} is a {type(target).__name__!r}, not a WSGI or ASGI app; "
            "name the app or its factory (MODULE:NAME)"
        )
    app: Callable[..., Any] = target
    return app


def is_asgi(app: Any) -> bool:
    """Whether ``app`` is an ASGI app (else WSGI).

    ASGI: a coroutine function ``async def app(scope, receive, send)``, or an object whose
    ``__call__`` is one (Starlette, FastAPI, Quart, Django's ASGIHandler); also a plain
    callable taking exactly those three arguments (a middleware that returns the wrapped
    app's coroutine). WSGI apps take two: ``environ, start_response``.
    """
    if inspect.isclass(app):  # calling it builds an object: ASGI 2, which livecov does not serve
        return False
    call: Any = app if inspect.isroutine(app) else getattr(app, "__call__", None)  # noqa: B004
    if inspect.iscoroutinefunction(call):
        return True
    try:
        parameters = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: not ours to guess
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3


def _is_factory(obj: Any) -> bool:
    if not (inspect.isfunction(obj) or inspect.ismethod(obj)):
        return False
    required = [
        p
        for p in inspect.signature(obj).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return not required


def _default_app(module: Any, spec: str) -> Any:
    for name in DEFAULT_NAMES:
        if hasattr(module, name):
            return getattr(module, name)
    names = ", ".join(DEFAULT_NAMES)
    raise ConfigError(f"module {spec!r} has none of {names}; name the app as {spec}:NAME")


def load_hook(spec: str) -> Callable[..., Any]:
    """Import the hook ``module:function``; ConfigError unless it is a plain function."""
    hook = load_object(spec, "the hook")
    if not callable(hook):
        raise ConfigError(f"the hook {spec!r} is not callable; name a function (MODULE:NAME)")
    if inspect.iscoroutinefunction(hook):  # called, never awaited, it would do nothing
        raise ConfigError(
            f"the hook {spec!r} is a coroutine function (async def), which livecov calls "
            "without awaiting: make it a plain def"
        )
    hook_function: Callable[..., Any] = hook
    return hook_function


def call_hook(spec: str, app: Any) -> None:
    """Call a setup/reset hook ``module:function`` (docs/pytest.md, "Setup and reset hooks").

    The hook receives the app (as the factory returned it) if it takes an argument. For a
    Flask app it runs inside an application context, so a hook such as
    ``flaskr.db:init_db`` works as it is. An app whose ``app_context()`` is asynchronous
    (Quart's) gets no context: the hook is a plain function, called outside any event loop's
    task.
    """
    hook = load_hook(spec)
    args = (app,) if inspect.signature(hook).parameters else ()
    try:
        with _app_context(app):
            hook(*args)
    except Exception as exc:
        raise AppLoadError(f"the hook {spec!r} raised {_one_line(exc)}") from exc


def _app_context(app: Any) -> contextlib.AbstractContextManager[Any]:
    """Flask's application context for ``app``, or no context at all."""
    app_context = getattr(app, "app_context", None)
    context: Any = app_context() if app_context is not None else None
    if isinstance(context, contextlib.AbstractContextManager):
        return context
    return contextlib.nullcontext()


def warm_up_django() -> None:
    """Load a configured Django project's URLconf, and the views it names, as ``runserver``'s
    checks do (Django loads them on the first request otherwise)."""
    django_conf = sys.modules.get("django.conf")
    if django_conf is None or not django_conf.settings.configured:
        return  # not a Django app
    from django.core.checks.urls import check_url_config

    try:
        check_url_config(None)
    except Exception as exc:
        raise AppLoadError(f"loading Django's URLconf raised {_one_line(exc)}") from exc
