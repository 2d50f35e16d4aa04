"""Screenshots of every page at phone, tablet and desktop widths in the light and dark theme, written on each run to
test-results/screenshots/<page>-<width>-<theme>.png for a reviewer to look at. Each shot also checks that the page
fits its width (no sideways scrolling) and that every button and button-styled link is at least 44 px tall on the
phone and tablet widths."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.clients import User, confirmed_user
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "screenshots"
WIDTHS = {"phone": 390, "tablet": 768, "desktop": 1280}
HEIGHT = 844
TOUCH_MIN_PX = 44
PUBLIC = {"index": "#create-account", "signin": "#signin-form", "signup": "#signup-form", "verify": "#verify-form",
          "forgot-password": "#forgot-form"}
ROWS = 'tr[data-testid="album-row"]'
THEMES = ("light", "dark")


SHOT_MAX_HEIGHT = 2400


@pytest.fixture(scope="module")
def shot_user() -> User:
    return confirmed_user("shots")


def small_targets(page: Page) -> list[str]:
    """Visible buttons and button-styled links under 44 px tall (text links inside sentences are exempt)."""
    return page.evaluate("""(minimum) => [...document.querySelectorAll('button, a.button, .sort')]
        .filter((node) => node.offsetParent !== null && !node.closest('[hidden]'))
        .map((node) => [node.id || node.className || node.textContent.trim(), node.getBoundingClientRect().height])
        .filter(([, height]) => height < minimum - 0.5)
        .map(([name, height]) => `${name}: ${height.toFixed(1)}px`)""", TOUCH_MIN_PX)


def capture(page: Page, name: str, width_name: str, theme: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The whole page, down to SHOT_MAX_HEIGHT: the dashboard's 50 cards at 390 px are ~12,000 px tall, and encoding
    # that twice per run costs seconds while the first screens show the layout a reviewer needs.
    height = min(page.evaluate("document.documentElement.scrollHeight"), SHOT_MAX_HEIGHT)
    page.screenshot(path=str(SHOTS / f"{name}-{WIDTHS[width_name]}-{theme}.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": WIDTHS[width_name], "height": height})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} at {WIDTHS[width_name]} px scrolls sideways by {overflow} px"
    if width_name != "desktop":
        assert small_targets(page) == [], f"{name} at {WIDTHS[width_name]} px"


def capture_every_width_and_theme(page: Page, name: str) -> None:
    """The loaded page at each width in each theme: its layout is CSS alone, and media queries follow the viewport
    and the colour scheme at once, so it is resized rather than loaded again."""
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": HEIGHT})
        for theme in THEMES:
            page.emulate_media(color_scheme=theme)
            capture(page, name, width_name, theme)


def test_every_page_at_every_width_in_both_themes(page: Page, site, shot_user: User,
                                                  sign_in: Callable[[Page, User], None]) -> None:
    # the public pages first: once signed in, they send the visitor to the dashboard
    for name, ready in PUBLIC.items():
        page.goto(site.url(f"{name}.html"))
        expect(page.locator(ready)).to_be_visible()
        capture_every_width_and_theme(page, name)
    sign_in(page, shot_user)
    # the dashboard is loaded at each width: it folds its chart when it loads at 900 px or less, as on a phone
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.goto(site.url("dashboard.html"))
        expect(page.locator(ROWS).first).to_be_visible()
        for theme in THEMES:
            page.emulate_media(color_scheme=theme)
            capture(page, "dashboard", width_name, theme)
    page.goto(site.url("add-album.html"))
    expect(page.locator("#album-form")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-auth", "ok")
    capture_every_width_and_theme(page, "add-album")
    # the add-album form with its errors shown (an empty submit)
    page.click("#album-submit")
    expect(page.locator("#album-rank-error")).not_to_be_empty()
    capture_every_width_and_theme(page, "add-album-errors")
    # the account page, with the two-step setup open (its secret and QR code)
    page.goto(site.url("account.html"))
    expect(page.locator("#two-step-on")).to_be_visible()
    page.click("#two-step-on")
    expect(page.locator("#two-step-qr")).to_be_visible()
    capture_every_width_and_theme(page, "account")
