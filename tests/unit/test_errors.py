"""Error pages: the site's look, the right status, a way home, and no traceback."""

from flaskr.db import get_db

from .helpers import assert_error_page


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
