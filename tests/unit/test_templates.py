"""What each template shows, pinned exactly: a template bug is a wrong page, not a crash.

Each post with its own author and date, the Edit link for its author only, the page links
only when that page exists, every form's prefilled values and limits, the flashes, the
navigation, the error page. livecov.jinja measures the templates' lines and branches.
"""

import re
from datetime import datetime, timedelta

import pytest

from flaskr.db import get_db

ARTICLE = re.compile(r'<article class="post">(.*?)</article>', re.S)


def add_posts(app, rows):
    """rows: (title, body, author_id, created)."""
    with app.app_context():
        db = get_db()
        db.executemany(
            "INSERT INTO post (title, body, author_id, created) VALUES (?, ?, ?, ?)", rows
        )
        db.commit()


def articles(page: str) -> list[dict]:
    found = []
    for html in ARTICLE.findall(page):
        edit = re.search(r'<a class="action" href="([^"]+)">Edit</a>', html)
        found.append(
            {
                "title": re.search(r"<h2>(.*?)</h2>", html, re.S).group(1),
                "about": re.search(r'<div class="about">(.*?)</div>', html, re.S).group(1),
                "body": re.search(r'<p class="body">(.*?)</p>', html, re.S).group(1),
                "edit": edit and edit.group(1),
            }
        )
    return found


@pytest.fixture
def two_authors(app):
    add_posts(
        app,
        [
            ("Other's post", "From other.", 2, "2020-02-29 10:00:00"),
            ("Mine again", "Second\nline", 1, "2021-12-31 23:59:59"),
        ],
    )


@pytest.mark.usefixtures("two_authors")
def test_each_post_shows_its_own_author_and_date(client):
    assert articles(client.get("/").get_data(as_text=True)) == [
        {"title": "Mine again", "about": "by test on 2021-12-31", "body": "Second\nline",
         "edit": None},
        {"title": "Other&#39;s post", "about": "by other on 2020-02-29", "body": "From other.",
         "edit": None},
        {"title": "test title", "about": "by test on 2018-01-01", "body": "test\nbody",
         "edit": None},
    ]  # fmt: skip


@pytest.mark.usefixtures("two_authors")
def test_the_edit_link_is_for_the_author_only(client, auth):
    auth.login()
    edits = [a["edit"] for a in articles(client.get("/").get_data(as_text=True))]
    assert edits == ["/3/update", None, "/1/update"]
    auth.login("other", "other")
    edits = [a["edit"] for a in articles(client.get("/").get_data(as_text=True))]
    assert edits == [None, "/2/update", None]


@pytest.mark.usefixtures("two_authors")
def test_posts_are_separated_by_one_rule_each(client):
    page = client.get("/").get_data(as_text=True)
    between = page.split('<article class="post">')
    assert [part.count("<hr>") for part in between[1:]] == [1, 1, 0]


def test_navigation_for_a_visitor_and_for_a_user(client, auth):
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/auth/register">Register</a>' in page
    assert '<a href="/auth/login">Log In</a>' in page
    assert "Log Out" not in page
    assert '<a class="action" href="/create">New</a>' not in page

    auth.login()
    page = client.get("/").get_data(as_text=True)
    assert "<li><span>test</span>" in page
    assert '<a href="/auth/logout">Log Out</a>' in page
    assert '<a class="action" href="/create">New</a>' in page
    assert "Register</a>" not in page
    assert "Log In</a>" not in page


def fill_pages(app, posts):
    start = datetime(2024, 5, 1)
    rows = [
        (f"Post {i}", "b", 1, f"{start + timedelta(hours=i):%Y-%m-%d %H:%M:%S}")
        for i in range(posts)
    ]
    add_posts(app, rows)


def page_links(page: str) -> dict:
    newer = re.search(r'<a rel="prev" href="([^"]*)">&larr; Newer posts</a>', page)
    older = re.search(r'<a rel="next" href="([^"]*)">Older posts &rarr;</a>', page)
    number = re.search(r"<span>Page (\d+)</span>", page)
    return {
        "newer": newer and newer.group(1),
        "older": older and older.group(1),
        "page": number and int(number.group(1)),
        "nav": '<nav class="pagination"' in page,
    }


def test_page_links_only_where_that_page_exists(client, app):
    fill_pages(app, 24)  # 25 posts with data.sql's: pages of 10, 10, 5
    assert page_links(client.get("/").get_data(as_text=True)) == {
        "newer": None, "older": "/?page=2", "page": 1, "nav": True}  # fmt: skip
    assert page_links(client.get("/?page=2").get_data(as_text=True)) == {
        "newer": "/", "older": "/?page=3", "page": 2, "nav": True}  # fmt: skip
    assert page_links(client.get("/?page=3").get_data(as_text=True)) == {
        "newer": "/?page=2", "older": None, "page": 3, "nav": True}  # fmt: skip


def test_one_page_has_no_page_links_at_all(client):
    assert page_links(client.get("/").get_data(as_text=True)) == {
        "newer": None, "older": None, "page": None, "nav": False}  # fmt: skip


def form_values(page: str) -> dict:
    """name -> the input's attributes (value, maxlength, autocomplete, type...)."""
    fields = {}
    for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", page, re.S):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        fields[attributes.get("name", attributes.get("type"))] = attributes
    return fields


@pytest.mark.parametrize(
    ("path", "submit", "autocomplete"),
    [("/auth/login", "Log In", "current-password"), ("/auth/register", "Register", "new-password")],
)
def test_credential_forms_keep_the_username_never_the_password(client, path, submit, autocomplete):
    empty = form_values(client.get(path).get_data(as_text=True))
    assert empty["username"]["value"] == ""
    assert empty["username"]["maxlength"] == "50"
    assert empty["password"]["maxlength"] == "1024"
    assert empty["password"]["autocomplete"] == autocomplete
    assert "value" not in empty["password"]
    assert empty["submit"]["value"] == submit
    assert empty["csrf_token"]["type"] == "hidden"

    page = client.post(path, data={"username": "someone", "password": ""})
    after_error = form_values(page.get_data(as_text=True))
    assert after_error["username"]["value"] == "someone"
    assert "value" not in after_error["password"]


def test_the_new_post_form_starts_empty_and_keeps_what_was_typed(client, auth):
    auth.login()
    page = client.get("/create").get_data(as_text=True)
    fields = form_values(page)
    assert fields["title"]["value"] == ""
    assert fields["title"]["maxlength"] == "200"
    assert fields["body"]["maxlength"] == "10000"
    assert '<textarea name="body" id="body" maxlength="10000">\n</textarea>' in page
    assert "<title>New Post - Flaskr</title>" in page

    page = client.post("/create", data={"title": "", "body": "typed"}).get_data(as_text=True)
    assert form_values(page)["title"]["value"] == ""
    assert ">\ntyped</textarea>" in page


def test_the_edit_form_shows_the_post_and_what_was_typed_after_an_error(client, auth):
    auth.login()
    page = client.get("/1/update").get_data(as_text=True)
    assert form_values(page)["title"]["value"] == "test title"
    assert ">\ntest\nbody</textarea>" in page
    assert '<h1>Edit "test title"</h1>' in page

    page = client.post("/1/update", data={"title": "", "body": "new"}).get_data(as_text=True)
    assert form_values(page)["title"]["value"] == ""
    assert ">\nnew</textarea>" in page


def test_flashes_say_what_they_are(client):
    page = client.post("/auth/login", data={"username": "nobody", "password": "x"})
    assert '<div class="flash error" role="alert">Incorrect username.</div>' in page.get_data(
        as_text=True
    )
    client.post("/auth/register", data={"username": "new", "password": "pw"})
    page = client.get("/auth/login").get_data(as_text=True)
    assert (
        '<div class="flash success" role="status">Registration complete. Please log in.</div>'
        in page
    )


def test_each_page_has_its_title(client):
    titles = {
        "/": "Posts",
        "/auth/login": "Log In",
        "/auth/register": "Register",
    }
    for path, title in titles.items():
        page = client.get(path).get_data(as_text=True)
        assert f"<title>{title} - Flaskr</title>" in page
        assert f"<h1>{title}</h1>" in page


def test_the_error_page_names_the_error_and_leads_back(client):
    page = client.get("/no/such/page").get_data(as_text=True)
    assert "<title>404 Not Found - Flaskr</title>" in page
    assert "<h1>404 Not Found</h1>" in page
    assert '<p class="error-description">The requested URL was not found' in page
    assert '<p><a href="/">Back to the posts</a></p>' in page


def test_every_page_links_the_stylesheet_it_is_served_with(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/style.css">' in page
    stylesheet = client.get("/static/style.css")
    assert stylesheet.status_code == 200
    assert stylesheet.mimetype == "text/css"


def test_every_page_names_an_empty_icon_so_browsers_ask_for_no_favicon(client):
    # Without it a browser fetches /favicon.ico after each page, a 404 that renders the error
    # page at a moment of its own: a browser test's coverage would depend on that timing.
    for path in ("/", "/auth/login", "/no-such-page"):
        assert '<link rel="icon" href="data:,">' in client.get(path).get_data(as_text=True)
