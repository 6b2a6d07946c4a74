"""Property-based tests: no form input makes the app fail, and valid posts round-trip.

Arbitrary form data (missing, extra, long, odd Unicode fields) is posted to every form;
every answer must be below 500. Hypothesis profiles are registered in conftest.py:

- ``default``: 20 examples per test (what ``make test`` runs);
- ``thorough``: 10 000 examples per test::

      HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/unit/test_properties.py

Hypothesis and function-scoped fixtures do not mix (a fixture would be shared by all the
examples of a test), so the app here is module-scoped and every example makes its own
client and, where it needs one, its own post.
"""

import os

import markupsafe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from flaskr import create_app
from flaskr.blog import MAX_BODY_LENGTH, MAX_TITLE_LENGTH
from flaskr.db import get_db

from .conftest import load_test_data
from .helpers import CHEAP_HASH_METHOD

PROP_USER_ID = 100
FIELDS = ("username", "password", "title", "body", "csrf_token")

# Mostly short text, sometimes text around and past the length limits.
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "test", "other", "\r\n", "<script>", "'; --", "\x00"]),
    st.builds(
        lambda char, n: char * n,
        # Every character UTF-8 can encode (it refuses only surrogates); cheaper to build
        # than codec="utf-8", which tabulates the codec first.
        st.characters(exclude_categories=("Cs",)),
        st.integers(0, MAX_BODY_LENGTH + 10),
    ),
)
form_data = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), values, max_size=7)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("properties") / "flaskr.sqlite"
    app = create_app(
        {"TESTING": True, "DATABASE": str(db_path), "PASSWORD_HASH_METHOD": CHEAP_HASH_METHOD}
    )
    load_test_data(app)
    # Logging in as data.sql's users costs a 50 000-round hash each time: use a cheap one.
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO user (id, username, password) VALUES (?, 'prop', ?)",
            (PROP_USER_ID, generate_password_hash("pw", method=CHEAP_HASH_METHOD)),
        )
        db.commit()
    return app


def new_post(app) -> int:
    with app.app_context():
        db = get_db()
        post_id = db.execute(
            "INSERT INTO post (title, body, author_id) VALUES ('target', '', ?)", (PROP_USER_ID,)
        ).lastrowid
        db.commit()
    return post_id


def logged_in_client(app):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "prop", "password": "pw"})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("form", ["register", "login", "create", "update", "delete"])
@given(data=form_data)
def test_no_form_input_fails(app, form, data):
    if form in ("register", "login"):
        response = app.test_client().post(f"/auth/{form}", data=data)
    elif form == "create":
        response = logged_in_client(app).post("/create", data=data)
    else:
        response = logged_in_client(app).post(f"/{new_post(app)}/{form}", data=data)
    assert response.status_code < 500


@given(data=form_data, anonymous=st.booleans())
def test_no_form_input_fails_anonymous_or_on_missing_posts(app, data, anonymous):
    client = app.test_client() if anonymous else logged_in_client(app)
    for path in ("/create", "/999999/update", "/999999/delete", "/auth/logout"):
        assert client.post(path, data=data).status_code < 500


title_text = st.text(min_size=1, max_size=MAX_TITLE_LENGTH).filter(lambda t: t.strip())
body_text = st.text(max_size=300)


@given(title=title_text, body=body_text)
def test_valid_posts_round_trip(app, title, body):
    client = logged_in_client(app)
    response = client.post("/create", data={"title": title, "body": body})
    assert response.headers["Location"] == "/"

    with app.app_context():
        post = get_db().execute("SELECT title, body FROM post ORDER BY id DESC").fetchone()
    assert tuple(post) == (title.strip(), body.replace("\r\n", "\n"))
    # The newest post leads page 1, escaped exactly as Jinja escapes.
    page = client.get("/").get_data(as_text=True)
    assert f"<h2>{markupsafe.escape(title.strip())}</h2>" in page
    assert f'<p class="body">{markupsafe.escape(post["body"])}</p>' in page


def test_the_profile_named_by_hypothesis_profile_is_the_one_in_force():
    assert settings.get_profile("default").max_examples == 20
    assert settings.get_profile("thorough").max_examples == 10_000
    chosen = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
    assert settings().max_examples == chosen.max_examples
    assert settings().deadline is None
