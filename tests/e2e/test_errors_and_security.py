"""Error pages a visitor can run into, and attacks the site must turn away."""

from __future__ import annotations

import sqlite3
from html import escape
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    OtherSite,
    create_post,
    create_post_ok,
    post_article,
    seed_post,
    seed_user,
)

ALICE = 1  # alice's user id (see the ``alice`` fixture)


def count(db: sqlite3.Connection, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def expect_error_page(page: Page, heading: str, description: str) -> None:
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page).to_have_title(f"{heading} - Flaskr")
    expect(page.locator(".error-description")).to_have_text(description)
    expect(page.get_by_role("link", name="Back to the posts")).to_be_visible()


def test_other_users_post_cannot_be_edited(
    page: Page, base_url: str, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    # Bob wrote a post...
    post_id = seed_post(db_path, seed_user(db_path, "bob"), "Bob's post", "Mine.")

    # ...Alice sees it without an Edit link, and can't open its editor.
    page.goto("/")
    article = post_article(page, "Bob's post")
    expect(article.locator(".about")).to_contain_text("by bob on ")
    expect(article.get_by_role("link", name="Edit")).to_have_count(0)

    response = page.goto(f"/{post_id}/update")
    assert response is not None
    assert response.status == 403
    expect_error_page(page, "403 Forbidden", "You can only change your own posts.")
    # The error page still shows who is logged in.
    expect(page.locator("body > nav").get_by_text(alice, exact=True)).to_be_visible()
    page.get_by_role("link", name="Back to the posts").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(post_article(page, "Bob's post")).to_be_visible()

    row = db.execute("SELECT title, body FROM post WHERE id = ?", (post_id,)).fetchone()
    assert tuple(row) == ("Bob's post", "Mine.")


# 2**63 is past SQLite's largest integer.
@pytest.mark.parametrize("post_id", [999, 2**63])
def test_missing_post_shows_404(
    page: Page, base_url: str, alice: str, db: sqlite3.Connection, post_id: int
) -> None:
    response = page.goto(f"/{post_id}/update")
    assert response is not None
    assert response.status == 404
    expect_error_page(page, "404 Not Found", f"Post id {post_id} doesn't exist.")
    page.get_by_role("link", name="Back to the posts").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_text("No posts yet.")).to_be_visible()
    assert count(db, "post") == 0


def test_unknown_page_shows_404(page: Page, db: sqlite3.Connection) -> None:
    response = page.goto("/no/such/page")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="404 Not Found")).to_be_visible()
    expect(page.get_by_role("link", name="Log In")).to_be_visible()
    # Error pages get the same security headers as the others.
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert count(db, "user") == 0


def test_get_on_delete_shows_405(
    page: Page, base_url: str, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    post_id = seed_post(db_path, ALICE, "Not deleted by a GET")

    response = page.goto(f"/{post_id}/delete")
    assert response is not None
    assert response.status == 405
    assert "POST" in response.headers["allow"]
    expect_error_page(
        page, "405 Method Not Allowed", "The method is not allowed for the requested URL."
    )
    page.get_by_role("link", name="Back to the posts").click()
    expect(post_article(page, "Not deleted by a GET")).to_be_visible()
    assert count(db, "post") == 1


def forged_form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )
    return (
        "<!doctype html><title>You won a prize!</title>"
        f'<form id="f" method="post" action="{escape(action)}">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script>"
    )


@pytest.mark.parametrize(
    ("attacker_host", "cookie_sent"),
    [
        # Another origin (another port) on the same site: the SameSite=Lax session cookie
        # is sent, so only the CSRF token stops the post.
        ("127.0.0.1", True),
        # Another site: the session cookie isn't even sent.
        ("localhost", False),
    ],
)
def test_forged_cross_site_post_is_refused(
    page: Page,
    base_url: str,
    alice: str,
    db_path: Path,
    db: sqlite3.Connection,
    other_site: OtherSite,
    attacker_host: str,
    cookie_sent: bool,
) -> None:
    seed_post(db_path, ALICE, "Alice's only post")
    evil = other_site.serve(
        "/prize",
        forged_form(f"{base_url}/create", {"title": "Forged post", "body": "Spam"}),
        attacker_host,
    )

    page.goto(evil)
    expect(page).to_have_url(f"{base_url}/create")
    expect_error_page(page, "400 Bad Request", "The CSRF token is missing.")
    # The error page shows who the server took the visitor for.
    nav = page.locator("body > nav")
    if cookie_sent:
        expect(nav.get_by_text(alice, exact=True)).to_be_visible()
    else:
        expect(nav.get_by_role("link", name="Log In")).to_be_visible()

    assert [r[0] for r in db.execute("SELECT title FROM post")] == ["Alice's only post"]
    # Alice is still logged in and can post as usual.
    create_post_ok(page, "Posted by Alice herself")
    assert count(db, "post") == 2


def test_forged_registration_is_refused(
    page: Page, base_url: str, db: sqlite3.Connection, other_site: OtherSite
) -> None:
    evil = other_site.serve(
        "/signup",
        forged_form(f"{base_url}/auth/register", {"username": "mallory", "password": "x"}),
    )
    page.goto(evil)
    expect(page).to_have_url(f"{base_url}/auth/register")
    expect_error_page(page, "400 Bad Request", "The CSRF token is missing.")
    assert count(db, "user") == 0


def test_form_with_a_stale_token_is_refused(
    page: Page, base_url: str, alice: str, db: sqlite3.Connection
) -> None:
    """A form opened before logging out and in again carries another session's token."""
    page.goto("/create")
    page.get_by_label("Title").fill("Written before the session ended")
    page.context.clear_cookies()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="400 Bad Request")).to_be_visible()
    expect(page.locator(".error-description")).to_contain_text("CSRF")
    assert count(db, "post") == 0


XSS_TITLE = "<script>window.pwned=1</script>"
XSS_BODY = '<img src="nowhere.png" onerror="window.pwned=2">'


def test_html_in_a_post_is_shown_as_text(
    page: Page, base_url: str, alice: str, db: sqlite3.Connection
) -> None:
    errors: list[Any] = []

    def on_error(error: Any) -> None:
        errors.append(error)

    page.on("pageerror", on_error)
    try:
        create_post(page, XSS_TITLE, XSS_BODY)
        expect_post_and_editor_show_text(page, base_url)
    finally:
        page.remove_listener("pageerror", on_error)  # the page serves the next tests too
    assert errors == []
    assert tuple(db.execute("SELECT title, body FROM post").fetchone()) == (XSS_TITLE, XSS_BODY)


def expect_post_and_editor_show_text(page: Page, base_url: str) -> None:
    expect(page).to_have_url(f"{base_url}/")
    article = page.locator("article.post")
    expect(article.get_by_role("heading")).to_have_text(XSS_TITLE)
    expect(article.locator(".body")).to_have_text(XSS_BODY)
    expect(article.locator("script, img")).to_have_count(0)
    assert page.evaluate("window.pwned") is None

    # The editor puts the title in <title>, a heading and a field: text there too.
    article.get_by_role("link", name="Edit").click()
    expect(page).to_have_title(f'Edit "{XSS_TITLE}" - Flaskr')
    expect(page.get_by_label("Title")).to_have_value(XSS_TITLE)
    expect(page.get_by_label("Body")).to_have_value(XSS_BODY)
    assert page.evaluate("window.pwned") is None
