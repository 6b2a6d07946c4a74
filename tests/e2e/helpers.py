"""What a person does in the browser, one flow at a time, for the e2e tests.

The plain actions (:func:`register`, :func:`login`, :func:`create_post`, ...) only act:
they open the page, fill the form and press the button, and leave it to the test to
``expect`` what the person sees next (Playwright retries those assertions until the new
page is there, so no step ever sleeps). The ``*_ok`` variants are for tests that need
the flow as set-up: they also wait for, and check, its successful outcome.
"""

from __future__ import annotations

import http.server
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect
from werkzeug.security import generate_password_hash

# The live test server's own method too (pyproject.toml, [tool.livecov.env]).
from tests.unit.helpers import CHEAP_HASH_METHOD

PASSWORD = "correct horse battery staple"


# --- Actions -------------------------------------------------------------------------


def register(page: Page, username: str, password: str) -> None:
    """Open the register page, fill in the form and submit it."""
    page.goto("/auth/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Register").click()


def login(page: Page, username: str, password: str) -> None:
    """Fill in the login form (opening the login page unless on it) and submit it."""
    if urlsplit(page.url).path != "/auth/login":
        page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log In").click()


def logout(page: Page) -> None:
    """Click "Log Out" in the navigation bar."""
    page.get_by_role("link", name="Log Out").click()


def create_post(page: Page, title: str, body: str = "") -> None:
    """Open the "New Post" form, fill it in and save it."""
    page.goto("/create")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill(body)
    page.get_by_role("button", name="Save").click()


def post_article(page: Page, title: str) -> Locator:
    """The index's <article> for the post titled ``title`` (exactly)."""
    return page.locator("article.post").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )


def open_editor(page: Page, title: str) -> None:
    """From the index, click the "Edit" link of the post titled ``title``."""
    page.goto("/")
    post_article(page, title).get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name=f'Edit "{title}"')).to_be_visible()


def open_editor_of(page: Page, post_id: int, title: str) -> None:
    """Open the editor of post ``post_id`` straight from its URL."""
    page.goto(f"/{post_id}/update")
    expect(page.get_by_role("heading", name=f'Edit "{title}"')).to_be_visible()


# --- Flows with their outcome checked, for set-up ------------------------------------


def register_ok(page: Page, username: str, password: str = PASSWORD) -> None:
    register(page, username, password)
    expect(page.get_by_role("heading", name="Log In")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Registration complete. Please log in.")


def login_ok(page: Page, username: str, password: str = PASSWORD) -> None:
    login(page, username, password)
    expect(page.get_by_role("link", name="Log Out")).to_be_visible()


def sign_up(page: Page, username: str, password: str = PASSWORD) -> None:
    """Register ``username`` and log in, as a new visitor would."""
    register_ok(page, username, password)
    login_ok(page, username, password)


def create_post_ok(page: Page, title: str, body: str = "") -> None:
    create_post(page, title, body)
    expect(page.get_by_role("heading", name="Posts")).to_be_visible()
    expect(post_article(page, title)).to_be_visible()


# --- What the page should show -------------------------------------------------------


def utc_dates_now() -> re.Pattern[str]:
    """The date a post created about now shows: SQLite's CURRENT_TIMESTAMP is UTC.

    Either side of midnight is accepted, so a test running across it doesn't fail.
    """
    now = datetime.now(UTC)
    dates = {(now + timedelta(seconds=s)).strftime("%Y-%m-%d") for s in (-120, 0, 120)}
    return re.compile("|".join(sorted(dates)))


# --- The live server's database ------------------------------------------------------


def seed_user(db_path: Path, username: str, password: str = PASSWORD) -> int:
    """Insert an account straight into the live database; return its id.

    For tests about what a logged-in person does, where registering through the form
    (tested on its own) would only cost time: they still log in through the form. The
    hash is a real but cheap one, which the login form checks like any other.
    """
    password_hash = generate_password_hash(password, method=CHEAP_HASH_METHOD)
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        with conn:
            cur = conn.execute(
                "INSERT INTO user (username, password) VALUES (?, ?)", (username, password_hash)
            )
    finally:
        conn.close()
    assert cur.lastrowid is not None
    return cur.lastrowid


def seed_post(db_path: Path, author_id: int, title: str, body: str = "") -> int:
    """Insert one post by ``author_id``, written an hour ago, into the live database.

    For tests about what happens to a post once written (editing, deleting, who may),
    where writing it through the form (tested on its own) would only cost time.
    """
    created = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        with conn:
            cur = conn.execute(
                "INSERT INTO post (author_id, created, title, body) VALUES (?, ?, ?, ?)",
                (author_id, created, title, body),
            )
    finally:
        conn.close()
    assert cur.lastrowid is not None
    return cur.lastrowid


def seed_posts(db_path: Path, count: int, username: str = "seeder") -> list[str]:
    """Insert a user and ``count`` posts straight into the live database; titles newest first.

    For tests about showing many posts (pagination, screenshots), where creating each one
    through the form would only cost time. The posts are one minute apart, oldest first,
    so their order on the index is known. The user can log in with :data:`PASSWORD`.
    """
    author_id = seed_user(db_path, username)
    start = datetime(2024, 3, 1, 9, 0, 0)
    rows = [
        (
            author_id,
            (start + timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M:%S"),
            f"Post {n:02d}",
            f"Body of post {n:02d}.\nSecond line.",
        )
        for n in range(1, count + 1)
    ]
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO post (author_id, created, title, body) VALUES (?, ?, ?, ?)", rows
            )
    finally:
        conn.close()
    return [title for _, _, title, _ in reversed(rows)]


# --- Someone else's web site ---------------------------------------------------------


class _Site(http.server.ThreadingHTTPServer):
    pages: dict[str, str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        html = self.server.pages.get(self.path)
        if html is None:
            self.send_error(404)
            return
        data = html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class OtherSite:
    """A second web site on 127.0.0.1 (another origin than the live server's), in a thread.

    Use it as a context manager: it serves from ``with`` until the block ends.
    """

    def __init__(self) -> None:
        self._server = _Site(("127.0.0.1", 0), _Handler)
        self._server.pages = {}
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtherSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._server.shutdown()
            self._thread.join()
        finally:
            self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def serve(self, path: str, html: str, host: str = "127.0.0.1") -> str:
        """Serve ``html`` at ``path``; return its URL, named with ``host``."""
        self._server.pages[path] = html
        return f"http://{host}:{self.port}{path}"
