"""Registering, logging in and out, in the browser, as a visitor does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORD, login, logout, register, register_ok, seed_user


def users(db: sqlite3.Connection) -> list[str]:
    return [row["username"] for row in db.execute("SELECT username FROM user ORDER BY id")]


def expect_logged_out(page: Page) -> None:
    nav = page.locator("body > nav")
    expect(nav.get_by_role("link", name="Log In")).to_be_visible()
    expect(nav.get_by_role("link", name="Register")).to_be_visible()
    expect(nav.get_by_role("link", name="Log Out")).to_have_count(0)


def test_register_lands_on_login_page(page: Page, base_url: str, db: sqlite3.Connection) -> None:
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    expect(page).to_have_url(f"{base_url}/auth/register")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()

    expect(page).to_have_url(f"{base_url}/auth/login")
    expect(page.get_by_role("heading", name="Log In")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Registration complete. Please log in.")
    expect_logged_out(page)
    row = db.execute("SELECT username, password FROM user").fetchone()
    assert row["username"] == "alice"
    # Stored hashed (with the test server's cheap method), never as typed.
    assert row["password"].startswith("pbkdf2:sha256:1$")
    assert PASSWORD not in row["password"]


def test_register_strips_spaces_around_the_username(page: Page, db: sqlite3.Connection) -> None:
    register_ok(page, "  alice  ")
    assert users(db) == ["alice"]


def test_register_with_empty_fields_is_stopped_by_the_browser(
    page: Page, base_url: str, db: sqlite3.Connection
) -> None:
    page.goto("/auth/register")
    form = page.locator("main form")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    # The fields are `required`: the browser keeps the form and flags the empty field.
    expect(page.locator("#username:invalid")).to_be_visible()
    assert form.evaluate("f => f.checkValidity()") is False

    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#password:invalid")).to_be_visible()
    assert form.evaluate("f => f.checkValidity()") is False

    expect(page).to_have_url(f"{base_url}/auth/register")
    assert users(db) == []


def test_register_with_blank_username_shows_error(
    page: Page, base_url: str, db: sqlite3.Connection
) -> None:
    # Spaces get past the browser's check; the server strips them and refuses.
    register(page, "   ", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Username is required.")
    expect(page).to_have_url(f"{base_url}/auth/register")
    expect(page.get_by_role("heading", name="Register")).to_be_visible()
    assert users(db) == []


def test_register_empty_fields_refused_by_server_without_browser_checks(
    page: Page, db: sqlite3.Connection
) -> None:
    """A browser that ignores `required` (or has its check turned off) gets the server's."""
    page.goto("/auth/register")
    page.locator("main form").evaluate("f => { f.noValidate = true; }")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("alert")).to_have_text("Username is required.")

    page.locator("main form").evaluate("f => { f.noValidate = true; }")
    page.get_by_label("Username").fill("alice")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("alert")).to_have_text("Password is required.")
    # The username typed is kept; the password is not.
    expect(page.get_by_label("Username")).to_have_value("alice")
    expect(page.get_by_label("Password")).to_be_empty()
    assert users(db) == []


def test_register_duplicate_username_shows_error(
    page: Page, base_url: str, db_path: Path, db: sqlite3.Connection
) -> None:
    seed_user(db_path, "alice")
    register(page, "alice", "another password")
    expect(page.get_by_role("alert")).to_have_text("User alice is already registered.")
    expect(page).to_have_url(f"{base_url}/auth/register")
    assert users(db) == ["alice"]


def test_login_shows_user_and_log_out(
    page: Page, base_url: str, db_path: Path, db: sqlite3.Connection
) -> None:
    seed_user(db_path, "alice")
    page.goto("/")
    page.get_by_role("link", name="Log In").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log In").click()

    expect(page).to_have_url(f"{base_url}/")
    nav = page.locator("body > nav")
    expect(nav.get_by_role("link", name="Log Out")).to_be_visible()
    expect(nav.get_by_text("alice", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Log In")).to_have_count(0)
    expect(page.get_by_role("link", name="New", exact=True)).to_be_visible()
    expect(page.get_by_text("No posts yet.")).to_be_visible()
    # The session cookie can't be read by scripts nor sent by cross-site posts.
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert users(db) == ["alice"]


def test_login_unknown_user_shows_error(
    page: Page, base_url: str, db_path: Path, db: sqlite3.Connection
) -> None:
    seed_user(db_path, "alice")
    login(page, "bob", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Incorrect username.")
    expect(page).to_have_url(f"{base_url}/auth/login")
    expect(page.get_by_label("Username")).to_have_value("bob")
    expect_logged_out(page)
    assert users(db) == ["alice"]


def test_login_wrong_password_shows_error(
    page: Page, base_url: str, db_path: Path, db: sqlite3.Connection
) -> None:
    seed_user(db_path, "alice")
    login(page, "alice", "not the password")
    expect(page.get_by_role("alert")).to_have_text("Incorrect password.")
    expect(page).to_have_url(f"{base_url}/auth/login")
    expect_logged_out(page)
    # Still anonymous: a page for logged-in users sends the visitor to log in.
    page.goto("/create")
    expect(page).to_have_url(f"{base_url}/auth/login")
    assert users(db) == ["alice"]


def test_logout(page: Page, base_url: str, alice: str, db: sqlite3.Connection) -> None:
    page.goto("/")
    logout(page)

    expect(page).to_have_url(f"{base_url}/")
    expect_logged_out(page)
    expect(page.get_by_text("alice", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="New", exact=True)).to_have_count(0)
    page.goto("/create")
    expect(page).to_have_url(f"{base_url}/auth/login")
    # Logging out forgets the session, not the account.
    assert users(db) == ["alice"]


def test_anonymous_visitor_is_sent_to_log_in(
    page: Page, base_url: str, db: sqlite3.Connection
) -> None:
    page.goto("/")
    expect(page.get_by_text("No posts yet.")).to_be_visible()
    expect_logged_out(page)
    for path in ("/create", "/1/update"):
        page.goto(path)
        expect(page).to_have_url(f"{base_url}/auth/login")
        expect(page.get_by_role("heading", name="Log In")).to_be_visible()
    page.get_by_role("link", name="Register").last.click()
    expect(page).to_have_url(f"{base_url}/auth/register")
    assert users(db) == []
