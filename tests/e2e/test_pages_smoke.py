"""Every page loads without console errors; protected pages send a visitor without a session to sign-in."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = {
    "signin.html": "#signin-form",
    "signup.html": "#signup-form",
    "verify.html": "#verify-form",
    "forgot-password.html": "#forgot-form",
}
PROTECTED_PAGES = ["dashboard.html", "add-album.html", "account.html"]


@pytest.mark.parametrize(("name", "form"), PUBLIC_PAGES.items())
def test_public_page_loads_clean(page: Page, site, name: str, form: str) -> None:
    started = time.monotonic()
    page.goto(site.url(name))
    expect(page.locator(form)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    print(f"{name} ready in {time.monotonic() - started:.2f}s")


def test_index_without_session_says_what_the_app_is(page: Page, site) -> None:
    page.goto(site.url("index.html"))
    expect(page.locator("#tagline")).to_contain_text("music albums")
    page.click("#sign-in")
    page.wait_for_url("**/signin.html")
    expect(page.locator("#signin-form")).to_be_visible()


@pytest.mark.parametrize("name", PROTECTED_PAGES)
def test_protected_page_without_session_redirects_to_sign_in(page: Page, site, name: str) -> None:
    page.goto(site.url(name))
    page.wait_for_url("**/signin.html")
    expect(page.locator("#signin-form")).to_be_visible()
    expect(page.locator('[data-testid="album-row"]')).to_have_count(0)


def test_signed_in_pages_load_clean(page: Page, site, new_user, sign_in_with_the_form) -> None:
    # GIVEN a confirmed user signed in through the page
    user = new_user()
    sign_in_with_the_form(page, user)
    # THEN the dashboard shows albums in Rank order and who is signed in
    ranks = page.locator('tr[data-testid="album-row"] td[data-field="Rank"]').all_inner_texts()
    assert [int(rank) for rank in ranks] == sorted(int(rank) for rank in ranks)
    expect(page.locator("#user-email")).to_have_text(user.email)
    # AND index sends a signed-in user to the dashboard, and the add-album form loads with the schema's hints
    page.goto(site.url("index.html"))
    page.wait_for_url("**/dashboard.html")
    page.goto(site.url("add-album.html"))
    expect(page.locator("#album-form")).to_be_visible()
    expect(page.locator("#album-year-hint")).to_have_text(re.compile(r"^A whole number from 1900 to 20[0-9]{2}\.$"))
    page.wait_for_load_state("networkidle")
