"""The index shows POSTS_PER_PAGE posts a page, newest first, with Newer/Older links."""

import re
from datetime import datetime, timedelta

import pytest

from flaskr.db import get_db

from .helpers import CHEAP_HASH_METHOD, LARGEST_ID, assert_error_page

TITLE = re.compile(r"<h2>(Post #\d+)</h2>")
NEWER = re.compile(r'<a rel="prev" href="([^"]+)">&larr; Newer posts</a>')
OLDER = re.compile(r'<a rel="next" href="([^"]+)">Older posts &rarr;</a>')


def replace_posts(app, n):
    """Leave exactly ``n`` posts, "Post #1" the oldest, one a minute apart."""
    start = datetime(2024, 1, 1)
    rows = [
        (f"Post #{i}", f"body {i}", 1 + i % 2, f"{start + timedelta(minutes=i):%Y-%m-%d %H:%M:%S}")
        for i in range(1, n + 1)
    ]
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM post")
        db.executemany(
            "INSERT INTO post (title, body, author_id, created) VALUES (?, ?, ?, ?)", rows
        )
        db.commit()


def read_page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    newer, older = NEWER.search(page), OLDER.search(page)
    return (
        TITLE.findall(page),
        newer and newer.group(1).replace("&amp;", "&"),
        older and older.group(1).replace("&amp;", "&"),
    )


def titles(*numbers):
    return [f"Post #{i}" for i in numbers]


def test_three_pages(client, app):
    replace_posts(app, 25)

    assert read_page(client, "/") == (titles(*range(25, 15, -1)), None, "/?page=2")
    assert read_page(client, "/?page=1") == read_page(client, "/")
    assert read_page(client, "/?page=2") == (titles(*range(15, 5, -1)), "/", "/?page=3")
    assert read_page(client, "/?page=3") == (titles(*range(5, 0, -1)), "/?page=2", None)
    assert client.get("/?page=4").status_code == 404


def test_following_older_links_shows_every_post_once(client, app):
    replace_posts(app, 47)
    seen, url, pages = [], "/", 0
    while url:
        page_titles, _, url = read_page(client, url)
        seen += page_titles
        pages += 1
    assert pages == 5
    assert seen == titles(*range(47, 0, -1))


def test_exactly_one_page_has_no_links(client, app):
    replace_posts(app, 10)
    page = client.get("/").get_data(as_text=True)
    assert len(TITLE.findall(page)) == 10
    assert 'class="pagination"' not in page
    assert client.get("/?page=2").status_code == 404


def test_eleven_posts_make_two_pages(client, app):
    replace_posts(app, 11)
    assert read_page(client, "/") == (titles(*range(11, 1, -1)), None, "/?page=2")
    assert read_page(client, "/?page=2") == (titles(1), "/", None)


def test_no_posts(client, app):
    replace_posts(app, 0)
    page = client.get("/").get_data(as_text=True)
    assert "No posts yet." in page
    assert '<article class="post">' not in page
    assert 'class="pagination"' not in page
    assert client.get("/?page=2").status_code == 404


def test_posts_per_page_is_configurable(make_app):
    app = make_app(TESTING=True, POSTS_PER_PAGE=3)
    replace_posts(app, 7)
    client = app.test_client()
    assert read_page(client, "/") == (titles(7, 6, 5), None, "/?page=2")
    assert read_page(client, "/?page=3") == (titles(1), "/?page=2", None)


def test_page_keeps_edit_links_and_bylines(client, auth, app):
    replace_posts(app, 12)
    auth.login()  # user 1 wrote the even-numbered posts
    page = client.get("/?page=2").get_data(as_text=True)
    assert "by other on 2024-01-01" in page
    assert "by test on 2024-01-01" in page
    with app.app_context():
        ids = {row["title"]: row["id"] for row in get_db().execute("SELECT id, title FROM post")}
    assert f'href="/{ids["Post #2"]}/update"' in page
    assert f'href="/{ids["Post #1"]}/update"' not in page


@pytest.mark.parametrize(
    "number",
    ["0", "-1", "abc", "", "1.5", "1e3", "½", "99999999999999999999999", "9" * 5000, "2"],
)
def test_bad_page_numbers_are_not_found(client, number):
    # One post, so page 2 is past the end too.
    assert_error_page(client.get("/", query_string={"page": number}), 404, "Not Found")


def test_page_past_the_largest_offset_is_not_found(make_app):
    # One post per page: page 2**63 + 1 has offset 2**63, one past what sqlite3 can bind.
    client = make_app(TESTING=True, POSTS_PER_PAGE=1, PASSWORD_HASH_METHOD=CHEAP_HASH_METHOD)
    client = client.test_client()
    assert client.get("/", query_string={"page": str(LARGEST_ID + 2)}).status_code == 404
