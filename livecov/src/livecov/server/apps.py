"""Find a WSGI application from a ``module:name`` string, as ``flask --app`` does."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from livecov.errors import AppLoadError

DEFAULT_NAMES = ("app", "application", "create_app", "make_app")


def load_object(spec: str) -> Any:
    """Import ``module:attr`` (the attribute may be dotted) and return it."""
    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise AppLoadError(f"{spec!r} is not of the form MODULE:NAME")
    module = importlib.import_module(module_name)
    if not attr:
        return module
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def load_app(spec: str) -> Callable[..., Any]:
    """Return the WSGI app named by ``spec``; a factory function is called with no arguments.

    A function that can be called with no arguments is a factory; a function that needs
    arguments (``environ, start_response``) is the app itself. ``module`` alone looks for
    ``app``, ``application``, ``create_app`` or ``make_app``.
    """
    target = load_object(spec)
    if inspect.ismodule(target):
        target = _default_app(target, spec)
    if _is_factory(target):
        target = target()
    if not callable(target):
        raise AppLoadError(f"{spec!r} gave {type(target).__name__!r}, which is not a WSGI app")
    return target


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
    raise AppLoadError(f"module {spec!r} has none of {names}; name the app as {spec}:NAME")


def call_hook(spec: str, app: Any) -> None:
    """Call a setup/reset hook ``module:function``.

    The hook receives the app if it takes an argument. For a Flask app it runs inside
    an application context, so a hook such as ``flaskr.db:init_db`` works as it is.
    """
    hook = load_object(spec)
    if not callable(hook):
        raise AppLoadError(f"hook {spec!r} is not callable")
    args = (app,) if inspect.signature(hook).parameters else ()
    app_context = getattr(app, "app_context", None)
    if app_context is None:
        hook(*args)
        return
    with app_context():
        hook(*args)
