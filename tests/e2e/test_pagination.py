"""Paging through the index, 10 posts a page, with its Older and Newer links.

The posts are inserted straight into the live database (see ``seed_posts``): these tests
are about the paging, not about writing posts.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import seed_posts

PER_PAGE = 10


def expect_page(page: Page, number: int, titles: list[str]) -> None:
    expect(page.locator("article.post h2")).to_have_text(titles)
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages.get_by_text(f"Page {number}", exact=True)).to_be_visible()


def test_older_and_newer_links(
    page: Page, base_url: str, db_path: Path, db: sqlite3.Connection
) -> None:
    titles = seed_posts(db_path, 25)
    assert titles[:2] == ["Post 25", "Post 24"]
    older = page.get_by_role("link", name="Older posts")
    newer = page.get_by_role("link", name="Newer posts")

    page.goto("/")
    expect_page(page, 1, titles[:10])
    expect(page.locator("article.post .about").first).to_have_text("by seeder on 2024-03-01")
    expect(newer).to_have_count(0)
    # Anonymous: no Edit links, no New link.
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)

    older.click()
    expect(page).to_have_url(f"{base_url}/?page=2")
    expect_page(page, 2, titles[10:20])
    expect(newer).to_be_visible()

    older.click()
    expect(page).to_have_url(f"{base_url}/?page=3")
    expect_page(page, 3, titles[20:])
    expect(older).to_have_count(0)

    newer.click()
    expect(page).to_have_url(f"{base_url}/?page=2")
    expect_page(page, 2, titles[10:20])

    newer.click()
    # Back to the plain index URL, not ?page=1.
    expect(page).to_have_url(f"{base_url}/")
    expect_page(page, 1, titles[:10])
    # Browsing changed nothing.
    assert db.execute("SELECT count(*) FROM post").fetchone()[0] == 25


def test_one_page_has_no_page_links(page: Page, db_path: Path, db: sqlite3.Connection) -> None:
    titles = seed_posts(db_path, PER_PAGE)
    page.goto("/")
    expect(page.locator("article.post h2")).to_have_text(titles)
    expect(page.get_by_role("navigation", name="Pages")).to_have_count(0)
    assert db.execute("SELECT count(*) FROM post").fetchone()[0] == PER_PAGE


def test_eleventh_post_goes_to_page_two(
    page: Page, base_url: str, db_path: Path, db: sqlite3.Connection
) -> None:
    titles = seed_posts(db_path, PER_PAGE + 1)
    page.goto("/")
    expect_page(page, 1, titles[:PER_PAGE])
    page.get_by_role("link", name="Older posts").click()
    expect(page).to_have_url(f"{base_url}/?page=2")
    expect_page(page, 2, ["Post 01"])
    expect(page.get_by_role("link", name="Older posts")).to_have_count(0)
    assert db.execute("SELECT min(title) FROM post").fetchone()[0] == "Post 01"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("4", "There is no page 4."),
        ("0", "Pages are numbered from 1."),
        ("two", "The page number must be a whole number."),
        ("99999999999999999999", "There is no page 99999999999999999999."),
    ],
)
def test_page_out_of_range_shows_404(
    page: Page, db_path: Path, db: sqlite3.Connection, query: str, message: str
) -> None:
    seed_posts(db_path, 25)
    response = page.goto(f"/?page={query}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="404 Not Found")).to_be_visible()
    expect(page.locator(".error-description")).to_have_text(message)
    assert db.execute("SELECT count(*) FROM post").fetchone()[0] == 25
