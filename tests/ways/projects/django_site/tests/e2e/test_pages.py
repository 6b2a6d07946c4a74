from playwright.sync_api import Page, expect


def test_home(page: Page):
    page.goto("/")
    expect(page.locator("body")).to_have_text("Django says hello")


def test_two_items(page: Page):
    page.goto("/items/2/")
    expect(page.get_by_role("listitem")).to_have_count(2)
