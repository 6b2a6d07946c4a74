"""Error pages: the site's look, the right status, a way home, and no traceback."""

import pytest

from flaskr.db import get_db


def assert_error_page(response, code, name):
    assert response.status_code == code
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<title>{code} {name} - Flaskr</title>" in page
    assert f"<h1>{code} {name}</h1>" in page
    assert '<nav>\n  <h1><a href="/">Flaskr</a></h1>' in page  # extends base.html
    assert '<a href="/">Back to the posts</a>' in page
    assert "Traceback" not in page
    return page


def test_404(client):
    page = assert_error_page(client.get("/no/such/page"), 404, "Not Found")
    assert "Log In" in page


def test_404_for_missing_post_says_which(client, auth):
    auth.login()
    page = assert_error_page(client.get("/42/update"), 404, "Not Found")
    assert "Post id 42 doesn&#39;t exist." in page
    assert "Log Out" in page


def test_403(app, client, auth):
    with app.app_context():
        get_db().execute("UPDATE post SET author_id = 2 WHERE id = 1")
        get_db().commit()
    auth.login()
    page = assert_error_page(client.post("/1/delete"), 403, "Forbidden")
    assert "You can only change your own posts." in page


def test_405_keeps_allow_header(client):
    response = client.get("/1/delete")
    assert_error_page(response, 405, "Method Not Allowed")
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_400(make_app):
    response = make_app().test_client().post("/auth/login")
    page = assert_error_page(response, 400, "Bad Request")
    assert "The CSRF token is missing." in page


def test_413(client):
    response = client.post("/auth/register", data={"username": "x" * (1024 * 1024 + 1)})
    page = assert_error_page(response, 413, "Request Entity Too Large")
    assert "Log In" in page


def test_500_shows_no_details(make_app):
    app = make_app()  # not testing: errors are handled, not propagated

    def broken() -> str:
        raise ValueError("secret internals")

    app.add_url_rule("/broken", view_func=broken)

    page = assert_error_page(app.test_client().get("/broken"), 500, "Internal Server Error")
    assert "secret internals" not in page
    assert "ValueError" not in page


@pytest.mark.parametrize("path", ["/?page=0", "/?page=x", "/?page=2"])
def test_404_for_bad_pages(client, path):
    assert_error_page(client.get(path), 404, "Not Found")
