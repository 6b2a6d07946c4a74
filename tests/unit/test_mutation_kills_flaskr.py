"""Tests written to kill mutants that the rest of the unit suite let survive.

Each test names the mutation(s) it kills. They pin literal values (not the module's own
constants, which a mutant changes along with the code under test).
"""

import pytest
from flask import g, get_flashed_messages
from werkzeug.security import generate_password_hash

from flaskr import auth, blog
from flaskr.db import get_db
from flaskr.security import is_weak_hash_method

# SQLite's largest rowid, written out: the tests must not import blog.SQLITE_MAX_INT.
LARGEST_ID = 9_223_372_036_854_775_807


@pytest.fixture
def post_with_largest_id(app):
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO post (id, title, body, author_id) VALUES (?, 'edge', 'far away', 1)",
            (LARGEST_ID,),
        )
        db.commit()


@pytest.mark.usefixtures("post_with_largest_id")
def test_post_with_the_largest_id_can_be_edited_and_deleted(client, auth, app):
    # Kills SQLITE_MAX_INT = 2**63 - 2, 2 | 63 - 1, ... (any smaller limit 404s here).
    auth.login()
    page = client.get(f"/{LARGEST_ID}/update").get_data(as_text=True)
    assert 'value="edge"' in page
    response = client.post(f"/{LARGEST_ID}/update", data={"title": "edge 2", "body": "b"})
    assert response.headers["Location"] == "/"
    assert client.post(f"/{LARGEST_ID}/delete").headers["Location"] == "/"
    with app.app_context():
        assert [row[0] for row in get_db().execute("SELECT id FROM post")] == [1]


@pytest.mark.parametrize("method", ["get", "post"])
def test_one_past_the_largest_id_is_not_found(client, auth, method):
    # Kills a larger limit (2**64 - 1, 2**63 + 1...): sqlite3 cannot bind such an id.
    auth.login()
    assert getattr(client, method)(f"/{LARGEST_ID + 1}/update").status_code == 404
    assert client.post(f"/{LARGEST_ID + 1}/delete").status_code == 404


def test_page_past_the_largest_offset_is_not_found(make_app):
    # One post per page: page 2**63 + 1 has offset 2**63, one past what sqlite3 can bind.
    client = make_app(TESTING=True, POSTS_PER_PAGE=1, PASSWORD_HASH_METHOD="pbkdf2:sha256:1")
    client = client.test_client()
    assert client.get("/", query_string={"page": str(LARGEST_ID + 2)}).status_code == 404


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login", "/create", "/1/update"])
def test_opening_a_form_changes_nothing_and_shows_no_message(client, auth, app, path):
    # Kills `request.method == "POST"` -> `request.method is not "POST"` in each view: a
    # GET would then be handled as an empty form submission.
    if not path.startswith("/auth"):
        auth.login()
    response = client.get(path)
    assert response.status_code == 200
    assert b'class="flash' not in response.data
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT COUNT(*) FROM user").fetchone()[0] == 2
        assert [tuple(r) for r in db.execute("SELECT id, title FROM post")] == [(1, "test title")]


def test_busy_timeout_is_ten_seconds(app):
    # Kills BUSY_TIMEOUT_SECONDS = 9.0 / 11.0 (test_database compares with the constant).
    with app.app_context():
        assert get_db().execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


@pytest.mark.parametrize("path", ["/1/update", "/1/delete"])
def test_a_later_user_cannot_change_an_earlier_users_post(client, auth, app, path):
    # Kills `post["author_id"] != g.user["id"]` -> `>`: "other" (id 2) on post 1 by "test"
    # (id 1). The other tests only had user 1 try user 2's post.
    auth.login("other", "other")
    response = client.post(path, data={"title": "taken over", "body": ""})
    assert response.status_code == 403
    assert client.get("/1/update").status_code == 403
    with app.app_context():
        row = get_db().execute("SELECT title, author_id FROM post WHERE id = 1").fetchone()
    assert tuple(row) == ("test title", 1)


@pytest.mark.parametrize("method", ["sha256", "scrypt2", "typo", "zz:1", "Scrypt", "PBKDF2"])
def test_unknown_hash_methods_sorting_anywhere_are_weak(method):
    # Kills `name == "scrypt"` -> `name >= "scrypt"` (and `<=`, `>`, `<`...) in
    # is_weak_hash_method: test_config's unknown names all sort before "scrypt".
    assert is_weak_hash_method(method) is True


def test_user_with_a_large_id_can_edit_own_post(client, app):
    # Kills `post["author_id"] != g.user["id"]` -> `is not`: ids up to 256 are cached int
    # objects in CPython, so only a user past id 256 tells identity from equality.
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO user (id, username, password) VALUES (1000, 'late', ?)",
            (generate_password_hash("pw", method="pbkdf2:sha256:1"),),
        )
        db.execute("INSERT INTO post (id, title, body, author_id) VALUES (500, 'mine', '', 1000)")
        db.commit()
    client.post("/auth/login", data={"username": "late", "password": "pw"})
    assert client.get("/500/update").status_code == 200
    response = client.post("/500/update", data={"title": "still mine", "body": ""})
    assert response.headers["Location"] == "/"
    with app.app_context():
        assert get_db().execute("SELECT title FROM post WHERE id = 500").fetchone()[0] == (
            "still mine"
        )


@pytest.mark.parametrize("page", ["1", "2"])
def test_index_reads_one_row_more_than_a_page(make_app, page):
    # Kills `per_page + 1` -> `per_page + 2` / `per_page << 1` in blog.index: the page and
    # its "older" link come out the same, but the query reads more rows than the one extra
    # it needs (the documented cost of a page). Pinned through SQLite's statement trace.
    app = make_app(TESTING=True, POSTS_PER_PAGE=3, PASSWORD_HASH_METHOD="pbkdf2:sha256:1")
    with app.app_context():
        db = get_db()
        db.executemany(
            "INSERT INTO post (title, body, author_id) VALUES (?, '', 1)",
            [(f"p{n}",) for n in range(6)],
        )
        db.commit()
    statements: list[str] = []
    with app.test_request_context("/", query_string={"page": page}):
        g.user = None
        get_db().set_trace_callback(statements.append)
        blog.index()
    offset = (int(page) - 1) * 3
    assert [s for s in statements if "LIMIT" in s] == [
        blog.INDEX_QUERY.replace("LIMIT ? OFFSET ?", f"LIMIT 4 OFFSET {offset}")
    ]


@pytest.mark.parametrize(
    ("view", "path"),
    [("register", "/auth/register"), ("login", "/auth/login"), ("create", "/create")],
)
def test_only_post_submits_a_form(app, view, path):
    # Kills `request.method == "POST"` -> `>= "POST"` in the views. The routes only let GET,
    # HEAD and POST through (all sort before or at "POST"), so this calls each view with a
    # method sorting after it, as a route that also accepted PUT would: it must not submit.
    views = {"register": auth.register, "login": auth.login, "create": blog.create}
    with app.test_request_context(path, method="PUT", data={"username": "x", "title": "t"}):
        g.user = get_db().execute("SELECT * FROM user WHERE id = 1").fetchone()
        page = views[view]()
        assert isinstance(page, str)  # the form page, not a redirect
        assert not get_flashed_messages()
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT COUNT(*) FROM user").fetchone()[0] == 2
        assert db.execute("SELECT COUNT(*) FROM post").fetchone()[0] == 1


def test_only_post_submits_an_update(app):
    # As above, for `request.method == "POST"` -> `>= "POST"` in blog.update.
    with app.test_request_context("/1/update", method="PUT", data={"title": "changed"}):
        g.user = get_db().execute("SELECT * FROM user WHERE id = 1").fetchone()
        assert isinstance(blog.update(id=1), str)
        assert not get_flashed_messages()
    with app.app_context():
        assert get_db().execute("SELECT title FROM post WHERE id = 1").fetchone()[0] == (
            "test title"
        )
