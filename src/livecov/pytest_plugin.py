"""pytest plugin: a session ``live_server`` under coverage, wired into pytest-playwright.

Only wiring lives here; the work is done by :mod:`livecov.server`, :mod:`livecov.measure`
and :mod:`livecov.browser`, which also work without pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import coverage
import pytest

from livecov.browser import BrowserNotFoundError, find_chromium, launch_args
from livecov.errors import LivecovError
from livecov.measure import merge_into_running
from livecov.middleware import CONTEXT_HEADER
from livecov.runner import server_options
from livecov.server import SERVERS, LiveServer
from livecov.settings import Settings, load_settings

OPTIONS = {
    # option name: (ini/settings key, type, help)
    "app": (str, "WSGI app or factory MODULE:NAME to serve (default: [tool.livecov] app)"),
    "backend": (str, f"server to run it under: {', '.join(SERVERS)} (default: werkzeug)"),
    "workers": (int, "gunicorn worker processes"),
    "startup-timeout": (float, "seconds to wait for the server to listen (default: 30)"),
    "reset": (
        str,
        "'auto' (default): reset the app's data before each test using the "
        "live server, when a setup or reset hook is set; 'never'",
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("livecov", "live server under coverage (livecov)")
    for name, (kind, help_text) in OPTIONS.items():
        group.addoption(f"--live-server-{name}", type=kind, default=None, help=help_text)
        parser.addini(f"live_server_{name.replace('-', '_')}", help=help_text)
    group.addoption(
        "--browser-executable",
        default=None,
        help="Chromium to launch (default: $LIVECOV_BROWSER, a system chromium, "
        "or Playwright's own)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Registered now, after every entry-point plugin, so these fixtures take precedence
    # over pytest-playwright's and can build on them.
    if config.pluginmanager.hasplugin("playwright"):
        config.pluginmanager.register(PlaywrightWiring(), "livecov-playwright")


def plugin_settings(config: pytest.Config) -> Settings:
    """``[tool.livecov]`` from the rootdir's pyproject.toml, then ini values, then options."""
    settings = load_settings(Path(config.rootpath, "pyproject.toml"))
    values: dict[str, Any] = {}
    for name, (kind, _) in OPTIONS.items():
        key = name.replace("-", "_")
        raw = config.getoption(f"--live-server-{name}") or config.getini(f"live_server_{key}")
        if raw:
            values["server" if key == "backend" else key] = kind(raw)
    values.pop("reset", None)
    return settings.updated(values)


def _reset_mode(config: pytest.Config) -> str:
    mode = config.getoption("--live-server-reset") or config.getini("live_server_reset") or "auto"
    if mode not in ("auto", "never"):
        raise pytest.UsageError(f"--live-server-reset must be 'auto' or 'never', not {mode!r}")
    return mode


@pytest.fixture(scope="session")
def live_server(pytestconfig: pytest.Config) -> Iterator[LiveServer]:
    """The app served on 127.0.0.1 in its own process, measured like the tests are.

    One per session (per worker under pytest-xdist). Its coverage data is added to the
    measurement running in this process (pytest-cov or ``coverage run``) when it stops.
    """
    try:
        options = server_options(plugin_settings(pytestconfig))
    except LivecovError as exc:
        raise pytest.UsageError(f"livecov: {exc}") from None
    running = coverage.Coverage.current()
    server = LiveServer(options, running.config if running else None)
    try:
        try:
            server.start()
        except LivecovError as exc:
            pytest.fail(f"livecov: {exc}\n{getattr(exc, 'output', '')}", pytrace=False)
        yield server
        try:
            merge_into_running(server.stop())
        except LivecovError as exc:
            pytest.fail(f"livecov: {exc}\n{server.output()}", pytrace=False)
    finally:
        server.cleanup()


@pytest.fixture
def live_server_reset(live_server: LiveServer) -> LiveServer:
    """Reset the app's data (its reset hook, else its setup hook) before this test."""
    live_server.reset()
    return live_server


@pytest.fixture(autouse=True)
def _livecov_auto_reset(request: pytest.FixtureRequest) -> None:
    if "live_server" not in request.fixturenames or _reset_mode(request.config) == "never":
        return
    server: LiveServer = request.getfixturevalue("live_server")
    if server.options.reset or server.options.setup:
        server.reset()


class PlaywrightWiring:
    """Fixtures that build on pytest-playwright's: base URL, browser, per-test header."""

    @pytest.fixture(scope="session")
    def base_url(self, base_url: str | None, pytestconfig: pytest.Config, request: Any) -> Any:
        if base_url or not plugin_settings(pytestconfig).app:
            return base_url
        return request.getfixturevalue("live_server").url

    @pytest.fixture(scope="session")
    def browser_type_launch_args(
        self,
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
            raise pytest.UsageError(f"livecov: {exc}") from None
        options = launch_args(executable)
        args = [*browser_type_launch_args.get("args", []), *options.pop("args", [])]
        return {**options, **browser_type_launch_args, "args": args}

    @pytest.fixture
    def new_context(
        self,
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
