"""Posts: what a person sees with several posts and authors, who may change which post,
and what each change touches (the Flask tutorial's own tests at the end)."""

import pytest
from werkzeug.security import generate_password_hash

from flaskr.db import get_db

from .helpers import CHEAP_HASH_METHOD, LARGEST_ID, all_posts

# (title, body, author_id, created); data.sql already has post 1 by "test" on 2018-01-01.
MORE_POSTS = [
    ("Spring notes", "Blossoms.", 2, "2019-03-20 08:00:00"),
    ("Summer notes", "Sun.\nSea.", 1, "2019-06-21 12:30:00"),
    ("Winter notes", "Snow.", 2, "2019-12-21 23:59:59"),
]


@pytest.fixture
def posts(app):
    with app.app_context():
        db = get_db()
        db.executemany(
            "INSERT INTO post (title, body, author_id, created) VALUES (?, ?, ?, ?)", MORE_POSTS
        )
        db.commit()


def positions(page, *needles):
    return [page.index(needle) for needle in needles]


@pytest.mark.usefixtures("posts")
def test_index_newest_first_with_author_and_date(client):
    page = client.get("/").get_data(as_text=True)

    expected = [
        ("Winter notes", "by other on 2019-12-21", "Snow."),
        ("Summer notes", "by test on 2019-06-21", "Sun.\nSea."),
        ("Spring notes", "by other on 2019-03-20", "Blossoms."),
        ("test title", "by test on 2018-01-01", "test\nbody"),
    ]
    found = [positions(page, *post) for post in expected]
    # Each post's title, byline and body in that order, and the posts newest first.
    assert all(p == sorted(p) for p in found)
    assert [p[0] for p in found] == sorted(p[0] for p in found)
    assert page.count('<article class="post">') == 4


@pytest.mark.usefixtures("posts")
def test_edit_links_only_on_own_posts(client, auth):
    assert b"/update" not in client.get("/").data

    auth.login()
    page = client.get("/").data
    assert b'href="/1/update"' in page
    assert b'href="/3/update"' in page
    assert b'href="/2/update"' not in page
    assert b'href="/4/update"' not in page
    assert page.count(b">Edit</a>") == 2

    auth.login("other", "other")
    page = client.get("/").data
    assert b'href="/2/update"' in page
    assert b'href="/4/update"' in page
    assert page.count(b">Edit</a>") == 2


def test_new_link_only_when_logged_in(client, auth):
    assert b'href="/create"' not in client.get("/").data
    auth.login()
    assert b'href="/create"' in client.get("/").data


def test_created_post_belongs_to_user_and_shows_today(client, auth, app):
    auth.login("other", "other")
    client.post("/create", data={"title": "Hello", "body": "First words."})

    with app.app_context():
        post = get_db().execute("SELECT * FROM post WHERE title = 'Hello'").fetchone()
    assert post["author_id"] == 2
    assert post["body"] == "First words."
    page = client.get("/").get_data(as_text=True)
    # Newest, so first, above the 2018 post.
    assert page.index("Hello") < page.index("test title")
    assert f"by other on {post['created']:%Y-%m-%d}" in page


def test_posts_created_in_the_same_second_newest_first(client, auth):
    auth.login()
    for title in ("first of two", "second of two"):
        client.post("/create", data={"title": title, "body": ""})
    page = client.get("/").get_data(as_text=True)
    assert page.index("second of two") < page.index("first of two")


def test_body_line_breaks_from_browsers_are_normalised(client, auth, app):
    auth.login()
    client.post("/create", data={"title": "lines", "body": "one\r\ntwo\r\n"})
    with app.app_context():
        body = get_db().execute("SELECT body FROM post WHERE title = 'lines'").fetchone()[0]
    assert body == "one\ntwo\n"


def test_title_is_stripped(client, auth, app):
    auth.login()
    client.post("/create", data={"title": "  padded  ", "body": ""})
    with app.app_context():
        assert get_db().execute("SELECT 1 FROM post WHERE title = 'padded'").fetchone()


@pytest.mark.usefixtures("posts")
def test_update_touches_only_the_target_post(client, auth, app):
    before = all_posts(app)
    auth.login()

    client.post("/3/update", data={"title": "Summer, revised", "body": "Hot."})

    after = all_posts(app)
    target_before, target_after = before[2], after[2]
    assert after[:2] + after[3:] == before[:2] + before[3:]
    # id, author and created stay; title and body change.
    assert target_after[:3] == target_before[:3]
    assert target_after[3:] == ("Summer, revised", "Hot.")


@pytest.mark.usefixtures("posts")
def test_delete_touches_only_the_target_post(client, auth, app):
    before = all_posts(app)
    auth.login()

    response = client.post("/3/delete", follow_redirects=True)

    assert response.request.path == "/"
    assert b"Post deleted." in response.data
    assert b"Summer notes" not in response.data
    assert all_posts(app) == before[:2] + before[3:]


@pytest.mark.usefixtures("posts")
def test_invalid_update_changes_nothing(client, auth, app):
    before = all_posts(app)
    auth.login()
    response = client.post("/3/update", data={"title": " ", "body": "lost?"})
    assert b"Title is required." in response.data
    assert all_posts(app) == before


def test_update_page_is_prefilled_and_has_delete_form(client, auth):
    auth.login()
    page = client.get("/1/update").get_data(as_text=True)

    assert '<title>Edit "test title" - Flaskr</title>' in page
    assert 'value="test title"' in page
    assert ">\ntest\nbody</textarea>" in page
    assert '<form action="/1/delete" method="post">' in page
    assert "onclick=\"return confirm('Are you sure?');\"" in page


def test_update_form_keeps_what_was_typed_after_error(client, auth):
    auth.login()
    response = client.post("/1/update", data={"title": "", "body": ""})
    page = response.get_data(as_text=True)
    assert "Title is required." in page
    assert 'value=""' in page  # not refilled with the saved title...
    assert "test\nbody</textarea>" not in page  # ...nor the saved body


def test_create_form_keeps_input_after_error(client, auth):
    auth.login()
    response = client.post("/create", data={"title": "", "body": "keep me"})
    assert b"keep me</textarea>" in response.data


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("method", ["get", "post"])
def test_others_posts_are_forbidden(client, auth, app, method):
    before = all_posts(app)
    auth.login()
    response = getattr(client, method)("/2/update", data={"title": "mine now"})
    assert response.status_code == 403
    assert b"You can only change your own posts." in response.data
    assert client.post("/2/delete").status_code == 403
    assert all_posts(app) == before


# The Flask tutorial's tests of the blog, as it wrote them. -------------------------------


def test_index(client, auth):
    response = client.get("/")
    assert b"Log In" in response.data
    assert b"Register" in response.data

    auth.login()
    response = client.get("/")
    assert b"Log Out" in response.data
    assert b"test title" in response.data
    assert b"by test on 2018-01-01" in response.data
    assert b"test\nbody" in response.data
    assert b'href="/1/update"' in response.data


@pytest.mark.parametrize("path", ["/create", "/1/update", "/1/delete"])
def test_login_required(client, path):
    response = client.post(path)
    assert response.headers["Location"] == "/auth/login"


def test_author_required(app, client, auth):
    # change the post author to another user
    with app.app_context():
        db = get_db()
        db.execute("UPDATE post SET author_id = 2 WHERE id = 1")
        db.commit()

    auth.login()
    # current user can't modify other user's post
    assert client.post("/1/update").status_code == 403
    assert client.post("/1/delete").status_code == 403
    # current user doesn't see edit link
    assert b'href="/1/update"' not in client.get("/").data


@pytest.mark.parametrize("path", ["/2/update", "/2/delete"])
def test_exists_required(client, auth, path):
    auth.login()
    assert client.post(path).status_code == 404


def test_create(client, auth, app):
    auth.login()
    assert client.get("/create").status_code == 200
    client.post("/create", data={"title": "created", "body": ""})

    with app.app_context():
        db = get_db()
        count = db.execute("SELECT COUNT(id) FROM post").fetchone()[0]
        assert count == 2


def test_update(client, auth, app):
    auth.login()
    assert client.get("/1/update").status_code == 200
    client.post("/1/update", data={"title": "updated", "body": ""})

    with app.app_context():
        db = get_db()
        post = db.execute("SELECT * FROM post WHERE id = 1").fetchone()
        assert post["title"] == "updated"


@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_create_update_validate(client, auth, path):
    auth.login()
    response = client.post(path, data={"title": "", "body": ""})
    assert b"Title is required." in response.data


def test_delete(client, auth, app):
    auth.login()
    response = client.post("/1/delete")
    assert response.headers["Location"] == "/"

    with app.app_context():
        db = get_db()
        post = db.execute("SELECT * FROM post WHERE id = 1").fetchone()
        assert post is None


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


def test_user_with_a_large_id_can_edit_own_post(client, app):
    # Kills `post["author_id"] != g.user["id"]` -> `is not`: ids up to 256 are cached int
    # objects in CPython, so only a user past id 256 tells identity from equality.
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO user (id, username, password) VALUES (1000, 'late', ?)",
            (generate_password_hash("pw", method=CHEAP_HASH_METHOD),),
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
