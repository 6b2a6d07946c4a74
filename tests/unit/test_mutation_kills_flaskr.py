"""Tests written to kill mutants that the rest of the unit suite let survive.

Each test names the mutation(s) it kills. They pin literal values (not the module's own
constants, which a mutant changes along with the code under test).
"""

import pytest

from flaskr.db import get_db

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
