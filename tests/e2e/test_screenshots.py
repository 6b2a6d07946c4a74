"""Screenshots of the main pages, for a person to look at: test-artifacts/screenshots/."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.helpers import login_ok, open_editor, register, seed_posts

Screenshot = Callable[[Page, str], Path]


def test_screenshots_of_the_main_pages(
    page: Page, db_path: Path, db: sqlite3.Connection, save_screenshot: Screenshot
) -> None:
    saved: list[Path] = []
    titles = seed_posts(db_path, 12)

    page.goto("/")
    expect(page.locator("article.post")).to_have_count(10)
    saved.append(save_screenshot(page, "index-anonymous"))

    login_ok(page, "seeder")
    expect(page.locator("article.post").first.get_by_role("link", name="Edit")).to_be_visible()
    saved.append(save_screenshot(page, "index-logged-in"))

    page.get_by_role("link", name="Older posts").click()
    expect(page.locator("article.post h2")).to_have_text(titles[10:])
    saved.append(save_screenshot(page, "index-page-2"))

    page.get_by_role("link", name="New", exact=True).click()
    expect(page.get_by_role("heading", name="New Post")).to_be_visible()
    saved.append(save_screenshot(page, "create-form"))

    page.get_by_label("Title").fill(" ")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Title is required.")
    saved.append(save_screenshot(page, "create-form-error"))

    open_editor(page, titles[0])
    saved.append(save_screenshot(page, "update-form"))

    response = page.goto("/999/update")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="404 Not Found")).to_be_visible()
    saved.append(save_screenshot(page, "error-404"))

    page.get_by_role("link", name="Log Out").click()
    register(page, "seeder", "whatever")
    expect(page.get_by_role("alert")).to_have_text("User seeder is already registered.")
    saved.append(save_screenshot(page, "register-error"))

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    expect(page.locator("article.post")).to_have_count(10)
    saved.append(save_screenshot(page, "index-narrow"))

    assert all(path.stat().st_size > 0 for path in saved)
    # Looking around changed nothing.
    assert db.execute("SELECT count(*) FROM post").fetchone()[0] == 12
    assert db.execute("SELECT count(*) FROM user").fetchone()[0] == 1
