"""Writing, editing and deleting posts, in the browser, as their author does."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from playwright.sync_api import Dialog, Page, expect

from tests.e2e.helpers import (
    open_editor,
    open_editor_of,
    post_article,
    seed_post,
    utc_dates_now,
)

ALICE = 1  # alice's user id (see the ``alice`` fixture)


def posts(db: sqlite3.Connection) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT p.id, title, body, username FROM post p JOIN user u ON u.id = p.author_id"
        " ORDER BY p.id"
    ).fetchall()


def test_create_post_appears_at_top_of_index(
    page: Page, base_url: str, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    seed_post(db_path, ALICE, "First post", "Hello.")
    dates = utc_dates_now()
    page.goto("/")
    page.get_by_role("link", name="New", exact=True).click()
    expect(page.get_by_role("heading", name="New Post")).to_be_visible()
    page.get_by_label("Title").fill("Second post")
    page.get_by_label("Body").fill("Line one\nLine two")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(f"{base_url}/")
    # Newest first.
    expect(page.locator("article.post h2")).to_have_text(["Second post", "First post"])
    top = page.locator("article.post").first
    expect(top.locator(".about")).to_have_text(re.compile(rf"^by {alice} on ({dates.pattern})$"))
    expect(top.locator(".body")).to_have_text("Line one\nLine two")
    expect(top.get_by_role("link", name="Edit")).to_be_visible()

    rows = posts(db)
    assert [(r["title"], r["username"]) for r in rows] == [
        ("First post", "alice"),
        ("Second post", "alice"),
    ]
    # The browser sends the textarea's line breaks as CRLF; plain newlines are stored.
    assert rows[1]["body"] == "Line one\nLine two"


def test_create_post_title_required(
    page: Page, base_url: str, alice: str, db: sqlite3.Connection
) -> None:
    page.goto("/create")
    page.get_by_label("Body").fill("A body without a title.")
    page.get_by_role("button", name="Save").click()
    # An empty title is stopped by the browser (`required`)...
    expect(page.locator("#title:invalid")).to_be_visible()
    assert page.locator("main form").evaluate("f => f.checkValidity()") is False

    # ...and a blank one by the server, which keeps what was typed.
    page.get_by_label("Title").fill("   ")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Title is required.")
    expect(page).to_have_url(f"{base_url}/create")
    expect(page.get_by_label("Body")).to_have_value("A body without a title.")
    assert posts(db) == []


def test_edit_post_changes_title_and_body(
    page: Page, base_url: str, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    seed_post(db_path, ALICE, "Draft title", "Draft body.")
    (post,) = posts(db)
    open_editor(page, "Draft title")
    expect(page).to_have_url(f"{base_url}/{post['id']}/update")
    expect(page.get_by_label("Title")).to_have_value("Draft title")
    expect(page.get_by_label("Body")).to_have_value("Draft body.")

    page.get_by_label("Title").fill("Final title")
    page.get_by_label("Body").fill("Final body.")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(f"{base_url}/")
    article = post_article(page, "Final title")
    expect(article.locator(".body")).to_have_text("Final body.")
    expect(page.get_by_text("Draft title")).to_have_count(0)
    expect(page.get_by_text("Draft body.")).to_have_count(0)
    assert [(r["id"], r["title"], r["body"]) for r in posts(db)] == [
        (post["id"], "Final title", "Final body.")
    ]


def test_edit_post_title_required(
    page: Page, base_url: str, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    post_id = seed_post(db_path, ALICE, "Keep me", "Body.")
    open_editor_of(page, post_id, "Keep me")
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#title:invalid")).to_be_visible()

    page.get_by_label("Title").fill("  ")
    page.get_by_label("Body").fill("Changed body.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Title is required.")
    expect(page).to_have_url(f"{base_url}/{post_id}/update")
    expect(page.get_by_label("Body")).to_have_value("Changed body.")
    # Nothing saved.
    assert [(r["title"], r["body"]) for r in posts(db)] == [("Keep me", "Body.")]
    page.goto("/")
    expect(post_article(page, "Keep me").locator(".body")).to_have_text("Body.")


def test_edit_post_emptied_body_stays_empty_after_an_error(
    page: Page, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    post_id = seed_post(db_path, ALICE, "Title", "Body to remove.")
    open_editor_of(page, post_id, "Title")
    page.get_by_label("Title").fill(" ")
    page.get_by_label("Body").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Title is required.")
    # The person fixes the title and saves, expecting the body they erased to stay erased.
    page.get_by_label("Title").fill("Title, no body")
    page.get_by_role("button", name="Save").click()
    expect(post_article(page, "Title, no body")).to_be_visible()
    assert [(r["title"], r["body"]) for r in posts(db)] == [("Title, no body", "")]


def test_delete_post_confirmed(
    page: Page, base_url: str, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    seed_post(db_path, ALICE, "Keep this one")
    post_id = seed_post(db_path, ALICE, "Delete this one")
    open_editor_of(page, post_id, "Delete this one")
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Delete").click()

    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("status")).to_have_text("Post deleted.")
    expect(page.locator("article.post h2")).to_have_text(["Keep this one"])
    assert dialogs == ["Are you sure?"]
    assert [r["title"] for r in posts(db)] == ["Keep this one"]


def test_delete_post_dismissed_keeps_it(
    page: Page, base_url: str, alice: str, db_path: Path, db: sqlite3.Connection
) -> None:
    post_id = seed_post(db_path, ALICE, "Still here", "Body.")
    open_editor_of(page, post_id, "Still here")
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Delete").click()
    assert dialogs == ["Are you sure?"]

    # Nothing was sent: still on the editor, and the post is still on the index.
    expect(page).to_have_url(f"{base_url}/{post_id}/update")
    expect(page.get_by_role("heading", name='Edit "Still here"')).to_be_visible()
    page.get_by_role("link", name="Flaskr").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(post_article(page, "Still here")).to_be_visible()
    expect(page.get_by_role("status")).to_have_count(0)
    assert [r["title"] for r in posts(db)] == ["Still here"]
