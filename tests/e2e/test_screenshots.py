"""Screenshots of the main pages, for a person to look at: test-artifacts/screenshots/."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.helpers import login_ok, open_editor, register, seed_posts

Screenshot = Callable[[Page, str], Path]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG image, from its header (IHDR, the first chunk)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG image"
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def expect_whole_page_in(page: Page, path: Path) -> None:
    """The screenshot at ``path`` shows ``page`` whole: as wide as the window, as tall as
    the document (a full-page screenshot), whatever the page is scrolled to."""
    width, height = page.evaluate("[window.innerWidth, document.documentElement.scrollHeight]")
    assert png_size(path) == (width, height)


def test_screenshots_of_the_main_pages(
    page: Page, db_path: Path, db: sqlite3.Connection, save_screenshot: Screenshot
) -> None:
    saved: list[Path] = []

    def shoot(name: str) -> None:
        path = save_screenshot(page, name)
        expect_whole_page_in(page, path)
        saved.append(path)

    titles = seed_posts(db_path, 12)

    page.goto("/")
    expect(page.locator("article.post")).to_have_count(10)
    shoot("index-anonymous")

    login_ok(page, "seeder")
    expect(page.locator("article.post").first.get_by_role("link", name="Edit")).to_be_visible()
    shoot("index-logged-in")

    page.get_by_role("link", name="Older posts").click()
    expect(page.locator("article.post h2")).to_have_text(titles[10:])
    shoot("index-page-2")

    page.get_by_role("link", name="New", exact=True).click()
    expect(page.get_by_role("heading", name="New Post")).to_be_visible()
    shoot("create-form")

    page.get_by_label("Title").fill(" ")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Title is required.")
    shoot("create-form-error")

    open_editor(page, titles[0])
    shoot("update-form")

    response = page.goto("/999/update")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="404 Not Found")).to_be_visible()
    shoot("error-404")

    page.get_by_role("link", name="Log Out").click()
    register(page, "seeder", "whatever")
    expect(page.get_by_role("alert")).to_have_text("User seeder is already registered.")
    shoot("register-error")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    expect(page.locator("article.post")).to_have_count(10)
    shoot("index-narrow")

    # Each file is the whole page as the person saw it at that step, and no two are alike.
    assert png_size(saved[-1])[0] == 390
    assert len({path.read_bytes() for path in saved}) == len(saved)
    # Looking around changed nothing.
    assert db.execute("SELECT count(*) FROM post").fetchone()[0] == 12
    assert db.execute("SELECT count(*) FROM user").fetchone()[0] == 1
