"""Fixtures that build on pytest-playwright's: base URL, browser, per-test header.

Registered by :mod:`livecov.pytest_plugin` only when pytest-playwright is active, after
it, so these definitions take precedence and can request the ones they extend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from livecov.browser import find_chromium, launch_args
from livecov.errors import BrowserNotFoundError
from livecov.protocol import CONTEXT_HEADER
from livecov.pytest_live_server import Server
from livecov.pytest_plugin import serves_base_url


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str | None:
    """The live server's URL, unless ``--base-url`` or the ``base_url`` ini names another.

    Only evaluated by tests that need it (a browser page does), so sessions without
    browser tests never start the server for it.
    """
    if not serves_base_url(pytestconfig):
        explicit: str | None = (
            pytestconfig.getoption("--base-url", None) or pytestconfig.getini("base_url") or None
        )
        return explicit
    server: Server = request.getfixturevalue("livecov_server")
    return server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
    browser_name: str | None,
    playwright: Any,
    pytestconfig: pytest.Config,
) -> dict[str, Any]:
    if browser_name not in (None, "chromium") or "channel" in browser_type_launch_args:
        return browser_type_launch_args
    explicit = pytestconfig.getoption("--browser-executable")
    try:
        executable = find_chromium(explicit, playwright.chromium.executable_path)
    except BrowserNotFoundError as exc:
        raise pytest.fail.Exception(f"livecov: {exc}", pytrace=False) from None
    options = launch_args(executable)
    args = [*browser_type_launch_args.get("args", []), *options.pop("args", [])]
    return {**options, **browser_type_launch_args, "args": args}


@pytest.fixture
def new_context(
    new_context: Callable[..., Any],
    browser_context_args: dict[str, Any],
    request: pytest.FixtureRequest,
) -> Callable[..., Any]:
    """Every browser context names the test in the ``Livecov-Context`` header."""

    def make_context(**kwargs: Any) -> Any:
        context = new_context(**kwargs)
        headers = {
            **browser_context_args.get("extra_http_headers", {}),
            **kwargs.get("extra_http_headers", {}),
            CONTEXT_HEADER: request.node.nodeid,
        }
        context.set_extra_http_headers(headers)
        return context

    return make_context
