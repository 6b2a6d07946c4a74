"""Fixtures for the browser tests of flaskr, run against livecov's ``live_server``.

livecov's plugin gives ``live_server`` (flaskr with an empty database before every test
that uses it) and wires pytest-playwright to it: ``page.goto("/auth/login")`` opens the
live server, in Chromium. The flows a person goes through are in :mod:`.helpers`.

Speed: opening a page costs Chromium a new renderer process (~0.3 s here, more than most
tests take), so every test gets the same page of one browser context, made fresh for it:
no cookies, on ``about:blank``, its requests named after the test (livecov's header).
Tests that need a second person open their own context with ``new_context``. Logging in
through the form is tested in test_auth_flows.py; ``alice`` reuses the session cookie of
one such log-in (Playwright's storage state) instead of logging in again.

Screenshots of failing tests come from pytest-playwright's ``--screenshot
only-on-failure``, turned on here unless ``--screenshot`` is given; they and the other
Playwright artifacts go to ``test-artifacts/playwright/`` unless ``--output`` is given.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from livecov import LiveServer
from livecov.protocol import CONTEXT_HEADER
from tests.e2e.helpers import OtherSite, login_ok, seed_user

ARTIFACTS = "test-artifacts"


def _option_given(config: pytest.Config, name: str) -> bool:
    given = [
        *config.invocation_params.args,
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *config.getini("addopts"),
    ]
    return any(arg == name or arg.startswith(f"{name}=") for arg in given)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("playwright"):
        return
    if not _option_given(config, "--screenshot"):
        config.option.screenshot = "only-on-failure"
    if not _option_given(config, "--output"):
        config.option.output = str(config.rootpath / ARTIFACTS / "playwright")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def _shared_page(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**browser_context_args)
    try:
        page = context.new_page()
        yield page
    finally:
        context.close()


@pytest.fixture
def page(_shared_page: Page, request: pytest.FixtureRequest, output_path: str) -> Iterator[Page]:
    """The browser page, fresh for this test: no cookies, blank, requests named after it."""
    page = _shared_page
    page.context.clear_cookies()
    page.context.set_extra_http_headers({CONTEXT_HEADER: request.node.nodeid})
    page.goto("about:blank")
    viewport = page.viewport_size
    yield page
    if request.node.stash.get(_FAILED, False):
        page.screenshot(path=Path(output_path, "test-failed-1.png"), full_page=True)
    if page.viewport_size != viewport and viewport is not None:
        page.set_viewport_size(viewport)


@pytest.fixture
def db_path(live_server: LiveServer) -> Path:
    """The live server's SQLite database (emptied before each test by livecov)."""
    return live_server.tmpdir / "instance" / "flaskr.sqlite"


@pytest.fixture
def db(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the live server's database, to check what a flow did.

    Outside a transaction each query sees the server's latest commit.
    """
    conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope="session")
def _alice_session(_shared_page: Page) -> list[Any]:
    """The cookies of alice's log-in through the form: done once, reused by ``alice``."""
    login_ok(_shared_page, "alice")
    cookies = _shared_page.context.cookies()
    _shared_page.goto("about:blank")
    return cookies


@pytest.fixture
def alice(page: Page, db_path: Path, request: pytest.FixtureRequest) -> str:
    """A person with the account "alice", logged in in ``page`` (still on about:blank).

    The account is inserted into the database (registering is tested on its own), where
    it always gets id 1, the id her session cookie names.
    """
    assert seed_user(db_path, "alice") == 1
    cookies = request.getfixturevalue("_alice_session")
    page.context.add_cookies(cookies)
    return "alice"


@pytest.fixture
def save_screenshot(pytestconfig: pytest.Config) -> Callable[[Page, str], Path]:
    """``save_screenshot(page, name)``: the whole page to test-artifacts/screenshots/."""
    directory = pytestconfig.rootpath / ARTIFACTS / "screenshots"

    def save(page: Page, name: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.fixture
def other_site() -> Iterator[OtherSite]:
    """A tiny HTTP server of someone else's pages (e.g. an attacker's), in a thread."""
    with OtherSite() as site:
        yield site
