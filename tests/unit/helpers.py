"""Helpers shared by the unit tests: literals they pin, and reading the test database."""

import sqlite3

from flask import Flask
from werkzeug.test import TestResponse

from flaskr.db import get_db

# A cheap password hash (one PBKDF2 round), which flaskr allows only when TESTING.
CHEAP_HASH_METHOD = "pbkdf2:sha256:1"

# SQLite's largest rowid, written out: tests must not use blog.SQLITE_MAX_INT, which a
# mutant would change along with the code under test.
LARGEST_ID = 9_223_372_036_854_775_807


def count(app: Flask, table: str) -> int:
    """How many rows ``table`` has in ``app``'s database."""
    with app.app_context():
        return get_db().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def user_row(app: Flask, username: str) -> sqlite3.Row | None:
    with app.app_context():
        return get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()


def post_row(app: Flask, post_id: int) -> tuple | None:
    with app.app_context():
        row = get_db().execute("SELECT * FROM post WHERE id = ?", (post_id,)).fetchone()
    return row and tuple(row)


def all_posts(app: Flask) -> list[tuple]:
    """Every post, as tuples of its columns, in id order."""
    with app.app_context():
        return [tuple(row) for row in get_db().execute("SELECT * FROM post ORDER BY id")]


def snapshot(app: Flask) -> tuple[list[tuple], list[tuple]]:
    """Every user and every post: to check that a request changed nothing."""
    with app.app_context():
        users = [tuple(row) for row in get_db().execute("SELECT * FROM user ORDER BY id")]
    return users, all_posts(app)


def assert_error_page(response: TestResponse, code: int, name: str) -> str:
    """``response`` is flaskr's error page for ``code``; its text."""
    assert response.status_code == code
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<title>{code} {name} - Flaskr</title>" in page
    assert f"<h1>{code} {name}</h1>" in page
    assert '<nav>\n  <h1><a href="/">Flaskr</a></h1>' in page  # extends base.html
    assert '<a href="/">Back to the posts</a>' in page
    assert "Traceback" not in page
    return page
