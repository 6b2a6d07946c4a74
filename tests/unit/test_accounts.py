"""Accounts: registering, logging in and out, stored hashes, session contents, redirects
(the Flask tutorial's own tests at the end)."""

import pytest
from flask import g, session
from werkzeug.security import check_password_hash

from flaskr.db import get_db

from .helpers import user_row


def test_stored_password_is_a_hash_that_verifies(client, app):
    client.post("/auth/register", data={"username": "alice", "password": "s3cret pass"})

    stored = user_row(app, "alice")["password"]
    assert "s3cret" not in stored
    assert stored.startswith("pbkdf2:sha256:1$")  # the configured (test) method
    assert check_password_hash(stored, "s3cret pass")
    assert not check_password_hash(stored, "s3cret")


def test_default_hash_method_is_scrypt(make_app):
    app = make_app(TESTING=True)
    app.test_client().post("/auth/register", data={"username": "bob", "password": "pw"})

    stored = user_row(app, "bob")["password"]
    assert stored.startswith("scrypt:")
    assert check_password_hash(stored, "pw")


def test_two_users_with_one_password_get_different_hashes(client, app):
    for name in ("carol", "dave"):
        client.post("/auth/register", data={"username": name, "password": "same"})
    assert user_row(app, "carol")["password"] != user_row(app, "dave")["password"]


def test_register_then_log_in(client):
    response = client.post(
        "/auth/register", data={"username": "erin", "password": "pw"}, follow_redirects=True
    )
    assert response.request.path == "/auth/login"
    assert b"Registration complete. Please log in." in response.data

    response = client.post(
        "/auth/login", data={"username": "erin", "password": "pw"}, follow_redirects=True
    )
    assert response.request.path == "/"
    assert b"<span>erin</span>" in response.data
    assert b"Log Out" in response.data


def test_failed_registration_stores_nothing(client, app):
    response = client.post("/auth/register", data={"username": "test", "password": "other"})
    assert response.status_code == 200
    assert b"User test is already registered." in response.data
    with app.app_context():
        assert get_db().execute("SELECT COUNT(*) FROM user").fetchone()[0] == 2
    # The original account is untouched.
    assert check_password_hash(user_row(app, "test")["password"], "test")


def test_old_tutorial_hashes_verify(client, auth):
    # data.sql's "other" has the tutorial's pbkdf2:sha256:50000 hash.
    assert auth.login("other", "other").headers["Location"] == "/"
    with client:
        client.get("/")
        assert g.user["username"] == "other"


def test_login_replaces_session(client, auth):
    with client.session_transaction() as sess:
        sess["stale"] = "left over from before"

    with client:
        auth.login()
        assert dict(session) == {"user_id": 1}


def test_failed_login_leaves_user_logged_out(client, auth):
    with client:
        response = auth.login("test", "wrong")
        assert response.status_code == 200
        assert "user_id" not in session
    assert b"Log In" in client.get("/").data


def test_logout_empties_session(client, auth):
    auth.login()
    with client:
        response = auth.logout()
        assert response.headers["Location"] == "/"
        assert dict(session) == {}
        client.get("/")
        assert g.user is None
    page = client.get("/").data
    assert b"Log In" in page
    assert b"Log Out" not in page


def test_username_is_stripped(client, app, auth):
    client.post("/auth/register", data={"username": "  frank  ", "password": "pw"})
    assert user_row(app, "frank") is not None
    assert auth.login(" frank ", "pw").headers["Location"] == "/"


def test_password_is_taken_as_typed(client, auth):
    client.post("/auth/register", data={"username": "gina", "password": " pw "})
    assert b"Incorrect password." in auth.login("gina", "pw").data
    assert auth.login("gina", " pw ").headers["Location"] == "/"


def test_deleted_user_is_logged_out(client, auth, app):
    auth.login()
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM post")
        db.execute("DELETE FROM user WHERE id = 1")
        db.commit()

    with client:
        page = client.get("/").data
        assert g.user is None
    assert b"Log In" in page
    assert client.get("/create").headers["Location"] == "/auth/login"


def test_redirects(client, auth):
    assert client.get("/create").headers["Location"] == "/auth/login"
    assert client.get("/1/update").headers["Location"] == "/auth/login"
    assert client.get("/auth/logout").headers["Location"] == "/"
    response = client.post("/auth/register", data={"username": "hank", "password": "pw"})
    assert response.headers["Location"] == "/auth/login"
    assert auth.login().headers["Location"] == "/"
    response = client.post("/create", data={"title": "t", "body": "b"})
    assert response.headers["Location"] == "/"
    response = client.post("/1/update", data={"title": "t2", "body": "b"})
    assert response.headers["Location"] == "/"
    assert client.post("/1/delete").headers["Location"] == "/"


# The Flask tutorial's tests of registering, logging in and out, as it wrote them. -------


def test_register(client, app):
    assert client.get("/auth/register").status_code == 200
    response = client.post("/auth/register", data={"username": "a", "password": "a"})
    assert response.headers["Location"] == "/auth/login"

    with app.app_context():
        assert get_db().execute("SELECT * FROM user WHERE username = 'a'").fetchone() is not None


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", b"Username is required."),
        ("a", "", b"Password is required."),
        ("test", "test", b"already registered"),
    ],
)
def test_register_validate_input(client, username, password, message):
    response = client.post("/auth/register", data={"username": username, "password": password})
    assert message in response.data


def test_login(client, auth):
    assert client.get("/auth/login").status_code == 200
    response = auth.login()
    assert response.headers["Location"] == "/"

    with client:
        client.get("/")
        assert session["user_id"] == 1
        assert g.user["username"] == "test"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("a", "test", b"Incorrect username."),
        ("test", "a", b"Incorrect password."),
    ],
)
def test_login_validate_input(auth, username, password, message):
    response = auth.login(username, password)
    assert message in response.data


def test_logout(client, auth):
    auth.login()

    with client:
        auth.logout()
        assert "user_id" not in session
