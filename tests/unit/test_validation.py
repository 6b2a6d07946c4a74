"""Bad input gets a clear message or the right 4xx, never a 500."""

import pytest

from flaskr.auth import MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH
from flaskr.blog import MAX_BODY_LENGTH, MAX_TITLE_LENGTH, SQLITE_MAX_INT
from flaskr.db import get_db

from .helpers import count, post_row

# Missing and blank fields: forms read with request.form.get, so a missing field counts as
# empty and gets the same message, not a 400.


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, b"Username is required."),
        ({"password": "pw"}, b"Username is required."),
        ({"username": "nopass"}, b"Password is required."),
        ({"username": " \t\n ", "password": "pw"}, b"Username is required."),
    ],
)
def test_register_missing_or_blank(client, app, data, message):
    response = client.post("/auth/register", data=data)
    assert response.status_code == 200
    assert message in response.data
    assert count(app, "user") == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, b"Incorrect username."),
        ({"password": "test"}, b"Incorrect username."),
        ({"username": "test"}, b"Incorrect password."),
    ],
)
def test_login_missing_fields(client, data, message):
    response = client.post("/auth/login", data=data)
    assert response.status_code == 200
    assert message in response.data


@pytest.mark.parametrize("path", ["/create", "/1/update"])
@pytest.mark.parametrize("data", [{}, {"body": "only a body"}, {"title": "   ", "body": "x"}])
def test_post_missing_or_blank_title(client, auth, app, path, data):
    before = post_row(app, 1)
    auth.login()
    response = client.post(path, data=data)
    assert response.status_code == 200
    assert b"Title is required." in response.data
    assert count(app, "post") == 1
    assert post_row(app, 1) == before


def test_missing_body_is_empty(client, auth, app):
    auth.login()
    client.post("/create", data={"title": "no body"})
    client.post("/1/update", data={"title": "no body either"})
    with app.app_context():
        bodies = get_db().execute("SELECT body FROM post ORDER BY id").fetchall()
    assert [row[0] for row in bodies] == ["", ""]


def test_extra_fields_are_ignored(client, auth, app):
    auth.login()
    response = client.post(
        "/create", data={"title": "t", "body": "b", "author_id": "2", "id": "1", "x": "y"}
    )
    assert response.headers["Location"] == "/"
    with app.app_context():
        post = get_db().execute("SELECT * FROM post WHERE id = 2").fetchone()
    assert (post["title"], post["body"], post["author_id"]) == ("t", "b", 1)


# Length limits: exactly at the limit is fine, one more is refused with a clear message.


def test_username_length_limit(client, app):
    ok = "u" * MAX_USERNAME_LENGTH
    response = client.post("/auth/register", data={"username": ok, "password": "pw"})
    assert response.headers["Location"] == "/auth/login"

    response = client.post("/auth/register", data={"username": ok + "u", "password": "pw"})
    assert b"Username must be at most 50 characters." in response.data
    assert count(app, "user") == 3


def test_password_length_limit(client, app):
    ok = "p" * MAX_PASSWORD_LENGTH
    response = client.post("/auth/register", data={"username": "long", "password": ok})
    assert response.headers["Location"] == "/auth/login"

    response = client.post("/auth/register", data={"username": "longer", "password": ok + "p"})
    assert b"Password must be at most 1024 characters." in response.data
    assert count(app, "user") == 3


@pytest.mark.parametrize("path", ["/create", "/1/update"])
@pytest.mark.parametrize(
    ("field", "limit", "message"),
    [
        ("title", MAX_TITLE_LENGTH, b"Title must be at most 200 characters."),
        ("body", MAX_BODY_LENGTH, b"Body must be at most 10000 characters."),
    ],
)
def test_post_length_limits(client, auth, app, path, field, limit, message):
    auth.login()
    data = {"title": "ok", "body": "ok"}

    too_long = client.post(path, data={**data, field: "x" * (limit + 1)})
    assert too_long.status_code == 200
    assert message in too_long.data
    assert count(app, "post") == 1
    assert post_row(app, 1)[3:] == ("test title", "test\nbody")

    at_limit = client.post(path, data={**data, field: "x" * limit})
    assert at_limit.headers["Location"] == "/"
    with app.app_context():
        stored = get_db().execute(f"SELECT {field} FROM post ORDER BY id DESC").fetchone()[0]
    assert stored == "x" * limit


def test_limits_in_forms(client, auth):
    register = client.get("/auth/register").data
    assert b'maxlength="50"' in register
    assert b'maxlength="1024"' in register
    auth.login()
    create = client.get("/create").data
    assert b'maxlength="200"' in create
    assert b'maxlength="10000"' in create


def test_request_too_large(client, auth, app):
    auth.login()
    response = client.post("/create", data={"title": "big", "body": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert b"413 Request Entity Too Large" in response.data
    assert count(app, "post") == 1


# Unicode is stored and shown intact.


def test_unicode_round_trip(client, auth, app):
    username, password = "Zoë 🐍 日本", "pässwörd ☃"
    title, body = "Ünïcödé — τίτλος 🎉", "naïve café\n中文 · עברית · العربية"
    client.post("/auth/register", data={"username": username, "password": password})
    auth.login(username, password)
    client.post("/create", data={"title": title, "body": body})

    with app.app_context():
        post = (
            get_db()
            .execute(
                "SELECT title, body, username FROM post JOIN user ON author_id = user.id"
                " WHERE post.id = 2"
            )
            .fetchone()
        )
    assert tuple(post) == (title, body, username)
    page = client.get("/").get_data(as_text=True)
    assert title in page
    assert body in page
    assert f"by {username} on" in page


# Ids and methods.


@pytest.mark.parametrize(
    "path",
    [
        "/abc/update",
        "/1.5/update",
        "/-1/update",
        "/0/update",
        "/%20/update",
        f"/{SQLITE_MAX_INT}/update",
        f"/{SQLITE_MAX_INT + 1}/update",
        "/99999999999999999999/update",
        "/1/update/extra",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_ids_are_not_found(client, auth, app, path, method):
    auth.login()
    response = getattr(client, method)(path, data={"title": "t"})
    assert response.status_code == 404
    assert b"404 Not Found" in response.data
    assert client.post(path.replace("update", "delete")).status_code == 404
    assert count(app, "post") == 1


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/1/delete", {"POST", "OPTIONS"}),
        ("put", "/create", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("delete", "/1/update", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("post", "/", {"GET", "HEAD", "OPTIONS"}),
        ("post", "/auth/logout", {"GET", "HEAD", "OPTIONS"}),
        ("patch", "/auth/login", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("put", "/auth/register", {"GET", "HEAD", "POST", "OPTIONS"}),
    ],
)
def test_wrong_method(client, auth, app, method, path, allowed):
    auth.login()
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
    assert b"405 Method Not Allowed" in response.data
    assert count(app, "post") == 1


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login", "/create", "/1/update"])
def test_opening_a_form_changes_nothing_and_shows_no_message(client, auth, app, path):
    # GET shows the form; only POST submits it (a GET handled as a submission would flash
    # "... is required." or write a row).
    if not path.startswith("/auth"):
        auth.login()
    response = client.get(path)
    assert response.status_code == 200
    assert b'class="flash' not in response.data
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT COUNT(*) FROM user").fetchone()[0] == 2
        assert [tuple(r) for r in db.execute("SELECT id, title FROM post")] == [(1, "test title")]
