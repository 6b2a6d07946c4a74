"""Fixtures for the browser tests of flaskr, run against livecov's ``live_server``.

livecov's plugin gives ``live_server`` (flaskr with an empty database before every test
that uses it) and wires pytest-playwright to it: ``page.goto("/auth/login")`` opens the
live server, in Chromium. The flows a person goes through are in :mod:`.helpers`.

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

import pytest
from playwright.sync_api import Page

from livecov import LiveServer
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


@pytest.fixture
def alice(page: Page, db_path: Path) -> str:
    """A person with the account "alice", logged in through the form in ``page``.

    The account is inserted into the database (registering is tested on its own).
    """
    seed_user(db_path, "alice")
    login_ok(page, "alice")
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
