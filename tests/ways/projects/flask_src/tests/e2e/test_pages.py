from playwright.sync_api import Page, expect


def test_home(page: Page):
    page.goto("/")
    expect(page.get_by_role("heading")).to_have_text("Welcome")
    expect(page.locator("#visits")).to_have_text("1 visits")


def test_greeting(page: Page):
    page.goto("/hello/bob")
    expect(page.get_by_role("heading")).to_have_text("Hello, bob!")
    expect(page.locator("#visits")).to_have_text("1 visits")
