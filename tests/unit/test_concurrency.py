"""Concurrent writers through a real HTTP server lose nothing and never see a locked database."""

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from flaskr.db import get_db

THREADS = 4
POSTS_PER_THREAD = 25


@pytest.fixture
def server_url(make_app) -> Iterator[tuple[str, object]]:
    app = make_app(TESTING=True, PASSWORD_HASH_METHOD="pbkdf2:sha256:1")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Browser:
    """One user's cookie jar and the answers the server gave it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.failures: list[str] = []

    def post(self, path: str, data: dict[str, str], expect_path: str) -> None:
        body = urllib.parse.urlencode(data).encode()
        try:
            # Redirects are followed, so each post also renders the page it leads to.
            with self.opener.open(self.base_url + path, body, timeout=30) as response:
                page = response.read().decode()
                if response.status != 200 or response.url != self.base_url + expect_path:
                    self.failures.append(f"{path}: {response.status} at {response.url}")
                if "database is locked" in page:
                    self.failures.append(f"{path}: database is locked")
        except urllib.error.HTTPError as e:
            self.failures.append(f"{path}: {e.code} {e.read().decode(errors='replace')[:500]}")


def test_concurrent_writers(server_url):
    base_url, app = server_url
    browsers = [Browser(base_url) for _ in range(THREADS)]
    everyone_logged_in = threading.Barrier(THREADS)

    def write_posts(n: int, browser: Browser) -> None:
        credentials = {"username": f"writer{n}", "password": "pw"}
        browser.post("/auth/register", credentials, "/auth/login")
        browser.post("/auth/login", credentials, "/")
        everyone_logged_in.wait(timeout=30)
        for i in range(POSTS_PER_THREAD):
            browser.post("/create", {"title": f"writer{n} post {i}", "body": "x"}, "/")

    threads = [
        threading.Thread(target=write_posts, args=(n, browser))
        for n, browser in enumerate(browsers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert [browser.failures for browser in browsers] == [[]] * THREADS
    with app.app_context():
        rows = (
            get_db()
            .execute(
                "SELECT username, title FROM post JOIN user ON author_id = user.id"
                " WHERE username LIKE 'writer%'"
            )
            .fetchall()
        )
    assert len(rows) == THREADS * POSTS_PER_THREAD
    assert {(row["username"], row["title"]) for row in rows} == {
        (f"writer{n}", f"writer{n} post {i}")
        for n in range(THREADS)
        for i in range(POSTS_PER_THREAD)
    }
