"""CSRF protection, cookie flags, security headers, and XSS / SQL-injection payloads."""

import re

import pytest

from flaskr.db import get_db

from .helpers import snapshot

TOKEN_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def csrf_token(client, path):
    """The token from the first form on ``path``, as a browser would submit it."""
    return TOKEN_FIELD.search(client.get(path).get_data(as_text=True)).group(1)


def log_in(client, username="test", password="test"):
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


# CSRF ------------------------------------------------------------------------------------

# path, form data, whether the attacker's victim is logged in, the page holding the form
FORMS = [
    ("/auth/register", {"username": "mallory", "password": "pw"}, False, "/auth/register"),
    ("/auth/login", {"username": "test", "password": "test"}, False, "/auth/login"),
    ("/create", {"title": "forged", "body": ""}, True, "/create"),
    ("/1/update", {"title": "forged", "body": ""}, True, "/1/update"),
    ("/1/delete", {}, True, "/1/update"),
]
FORM_IDS = [form[0] for form in FORMS]


@pytest.fixture
def csrf_app(make_app):
    """An app as deployed: not testing, so CSRF protection is on by default."""
    app = make_app()
    assert not app.testing
    return app


def test_every_form_has_a_token(csrf_app):
    client = csrf_app.test_client()
    log_in(client)
    for page in ("/auth/register", "/auth/login", "/create", "/1/update"):
        html = client.get(page).get_data(as_text=True)
        assert html.count("<form") == len(TOKEN_FIELD.findall(html)) > 0


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "The CSRF token is missing."),
        ("", "The CSRF token is missing."),
        ("forged", "The CSRF token is invalid."),
    ],
)
@pytest.mark.parametrize(("path", "data", "logged_in", "form_page"), FORMS, ids=FORM_IDS)
def test_forged_post_is_refused(csrf_app, path, data, logged_in, form_page, token, reason):
    client = csrf_app.test_client()
    if logged_in:
        log_in(client)
    client.get(form_page)  # the victim has a session token of their own
    before = snapshot(csrf_app)
    if token is not None:
        data = {**data, "csrf_token": token}

    response = client.post(path, data=data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "400 Bad Request" in page
    assert reason in page
    assert '<a href="/">Back to the posts</a>' in page
    # The friendly page knows who is logged in: g.user is loaded before the CSRF check.
    assert ("Log Out" in page) is logged_in
    assert snapshot(csrf_app) == before
    with client.session_transaction() as session:
        assert session.get("user_id") == (1 if logged_in else None)


@pytest.mark.parametrize(("path", "data", "logged_in", "form_page"), FORMS, ids=FORM_IDS)
def test_token_from_another_session_is_refused(csrf_app, path, data, logged_in, form_page):
    attacker = csrf_app.test_client()
    log_in(attacker)
    stolen = csrf_token(attacker, form_page)
    victim = csrf_app.test_client()
    if logged_in:
        log_in(victim)
    victim.get(form_page)
    before = snapshot(csrf_app)

    response = victim.post(path, data={**data, "csrf_token": stolen})

    assert response.status_code == 400
    assert b"The CSRF tokens do not match." in response.data
    assert snapshot(csrf_app) == before


def test_valid_tokens_work(csrf_app):
    client = csrf_app.test_client()

    token = csrf_token(client, "/auth/register")
    response = client.post(
        "/auth/register", data={"username": "ivy", "password": "pw", "csrf_token": token}
    )
    assert response.headers["Location"] == "/auth/login"

    log_in(client, "ivy", "pw")

    token = csrf_token(client, "/create")
    response = client.post("/create", data={"title": "mine", "body": "", "csrf_token": token})
    assert response.headers["Location"] == "/"

    token = csrf_token(client, "/2/update")
    response = client.post("/2/update", data={"title": "edited", "body": "", "csrf_token": token})
    assert response.headers["Location"] == "/"
    users, posts = snapshot(csrf_app)
    assert users[-1][1] == "ivy"
    assert posts[-1][3:] == ("edited", "")

    token = csrf_token(client, "/2/update")  # the delete form is on the update page
    assert client.post("/2/delete", data={"csrf_token": token}).headers["Location"] == "/"
    assert len(snapshot(csrf_app)[1]) == 1


def test_post_without_any_session_is_refused(csrf_app):
    response = csrf_app.test_client().post("/auth/register", data={"csrf_token": "x"})
    assert response.status_code == 400
    assert b"The CSRF session token is missing." in response.data


def test_testing_app_can_turn_csrf_back_on(make_app):
    app = make_app(TESTING=True, WTF_CSRF_ENABLED=True, PASSWORD_HASH_METHOD="pbkdf2:sha256:1")
    response = app.test_client().post("/auth/register", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert b"The CSRF token is missing." in response.data


# Cookies and headers ---------------------------------------------------------------------


def test_session_cookie_flags(client, auth):
    response = auth.login()
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    attributes = {part.strip() for part in cookie.split(";")[1:]}
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Path=/" in attributes


@pytest.mark.parametrize("path", ["/", "/auth/login", "/no-such-page"])
def test_security_headers(client, path):
    # Written out, not read from flaskr.security: a header deleted there must fail here.
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


# XSS -------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_xss_payloads_are_shown_escaped(client, auth, app):
    client.post("/auth/register", data={"username": SCRIPT, "password": "pw"})
    auth.login(SCRIPT, "pw")
    title = SCRIPT + '" autofocus onfocus="alert(2)'
    body = '<img src=x onerror="alert(3)">\n' + SCRIPT
    client.post("/create", data={"title": title, "body": body})

    with app.app_context():
        stored = get_db().execute("SELECT title, body FROM post WHERE id = 2").fetchone()
    assert tuple(stored) == (title, body)  # stored verbatim, escaped when shown

    index = client.get("/").get_data(as_text=True)
    update = client.get("/2/update").get_data(as_text=True)
    for page in (index, update):
        assert SCRIPT not in page
        assert "<img" not in page
        assert ESCAPED_SCRIPT in page
        assert "&lt;img src=x onerror=&#34;alert(3)&#34;&gt;" in page
    assert f"<span>{ESCAPED_SCRIPT}</span>" in index
    assert f"by {ESCAPED_SCRIPT} on" in index
    assert f'value="{ESCAPED_SCRIPT}&#34; autofocus onfocus=&#34;alert(2)"' in update
    # A failed form re-shows what was typed, escaped too.
    refused = client.post("/create", data={"title": "", "body": SCRIPT}).get_data(as_text=True)
    assert SCRIPT not in refused
    assert ESCAPED_SCRIPT in refused


# SQL injection ---------------------------------------------------------------------------

DROP_POST = "'; DROP TABLE post; --"
DROP_USER = "Robert'); DROP TABLE user;--"


def test_sql_injection_in_posts_is_stored_verbatim(client, auth, app):
    auth.login()
    client.post("/create", data={"title": DROP_POST, "body": DROP_USER})
    client.post("/1/update", data={"title": DROP_USER, "body": DROP_POST})

    users, posts = snapshot(app)
    assert len(users) == 2
    assert [post[3:] for post in posts] == [(DROP_USER, DROP_POST), (DROP_POST, DROP_USER)]
    page = client.get("/").get_data(as_text=True)
    assert "&#39;; DROP TABLE post; --" in page
    assert "Robert&#39;); DROP TABLE user;--" in page


def test_sql_injection_in_accounts_is_inert(client, auth, app):
    username, password = "admin'--", "' OR '1'='1"
    client.post("/auth/register", data={"username": username, "password": password})
    assert snapshot(app)[0][-1][1] == username

    assert b"Incorrect username." in auth.login("' OR '1'='1' --", "x").data
    assert b"Incorrect username." in auth.login("test' --", "x").data
    assert b"Incorrect password." in auth.login("test", password).data
    assert auth.login(username, password).headers["Location"] == "/"


def test_sql_injection_in_page_number_is_inert(client, app):
    assert client.get("/?page=1;DROP TABLE post").status_code == 404
    assert client.get("/?page=1 OR 1=1").status_code == 404
    assert len(snapshot(app)[1]) == 1
