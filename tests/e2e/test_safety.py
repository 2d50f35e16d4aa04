"""Journey 3: safety. Album text is data, never markup; the page sends no API call without the user's token (every
test checks that through the autouse `api_calls` fixture, the full journey asserts it over all four methods); no
page logs a console error (every test, through the autouse `console_errors` fixture)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Dialog, Page, expect

pytestmark = pytest.mark.e2e

PAYLOAD = "<img src=x onerror=alert(1)>"
ROWS = 'tr[data-testid="album-row"]'


def test_album_with_markup_in_its_name_is_shown_as_text(page: Page, site, new_user, sign_in, albums,
                                                        api_calls) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: _record_and_dismiss(dialog, dialogs))
    stray_images = []
    page.on("request", lambda request: stray_images.append(request.url) if request.url.endswith("/x") else None)

    # GIVEN a signed-in person on the Add album page
    sign_in(page, new_user())
    page.click("#add-album-link")
    page.wait_for_url("**/add-album.html")
    rank = albums.free_rank()
    # WHEN they add an album whose title and artist are HTML with a script in an event handler
    page.fill("#album-rank", str(rank))
    page.fill("#album-title", PAYLOAD)
    page.fill("#album-artist", PAYLOAD)
    page.fill("#album-genre", "Rock")
    page.fill("#album-year", "2000")
    page.click("#album-submit")

    # THEN the dashboard shows the album with exactly that text in its cells
    row = page.locator(f'{ROWS}[data-rank="{rank}"]')
    expect(row).to_be_visible()
    expect(row.locator('td[data-field="Album"]')).to_have_text(PAYLOAD)
    assert row.locator('td[data-field="Album"]').evaluate("cell => cell.textContent") == PAYLOAD
    assert row.locator('td[data-field="Artist"]').evaluate("cell => cell.textContent") == PAYLOAD
    expect(page.get_by_test_id("toast")).to_contain_text(PAYLOAD)
    # AND in the edit field and the delete question, where it is also just text
    row.locator('[data-testid="edit-album"]').click()
    expect(page.locator('[data-testid="edit-Album"]')).to_have_value(PAYLOAD)
    page.locator('[data-testid="cancel-edit"]').click()
    row.locator('[data-testid="delete-album"]').click()
    expect(page.locator("#delete-dialog-text")).to_contain_text(PAYLOAD)
    page.click("#delete-cancel")
    expect(page.locator("#delete-dialog")).to_be_hidden()
    expect(row).to_be_visible()
    # AND no <img> element was created anywhere in the page, no image "x" was requested, no alert ran
    expect(page.locator("img")).to_have_count(0)
    assert page.evaluate("document.querySelectorAll('#albums-table img, #toast-region img').length") == 0
    assert stray_images == []
    assert dialogs == []
    # (the autouse console check also fails the test if CSP had to refuse an inline handler)
    assert api_calls.methods() == {"GET", "POST"} and api_calls.without_token == []


def _record_and_dismiss(dialog: Dialog, seen: list[str]) -> None:
    seen.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


def test_a_signed_in_dashboard_refuses_to_work_inside_another_sites_frame(page: Page, site, new_user, sign_in,
                                                                           api_calls) -> None:
    # GIVEN a signed-in person (their tokens are in the browser)
    sign_in(page, new_user())
    calls_before = len(api_calls.calls)
    # WHEN another site's page frames the dashboard (clickjacking: its Delete buttons under the attacker's page)
    page.set_content(f'<iframe src="{site.url("dashboard.html")}" width="1200" height="800"></iframe>')
    frame_element = page.locator("iframe")
    expect(frame_element).to_be_attached()
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    # THEN the framed page shows nothing and never starts: no rows, no buttons, no API call
    expect(frame.locator("html")).to_have_attribute("hidden", "")
    page.wait_for_timeout(500)  # time for a page that did start to load its albums (it would within ~100 ms)
    assert frame.evaluate("document.querySelectorAll('button, tr').length") == 0
    assert len(api_calls.calls) == calls_before


def test_no_form_is_submitted_natively_a_dialog_form_still_closes_its_dialog(page: Page, site) -> None:
    """Before a page's module has taken its forms over, a submit must not reload the page with the fields (a password
    among them) in the address: frame-guard.js, the first script, prevents every native submission."""
    page.goto(site.url("signin.html"))
    prevented = page.evaluate("""() => {
        const outcome = {};
        for (const method of ['get', 'dialog']) {
            const form = document.createElement('form');
            form.method = method;
            form.addEventListener('submit', (event) => { outcome[method] = event.defaultPrevented; });
            document.body.append(form);
            form.requestSubmit();
            form.remove();
        }
        return outcome;
    }""")
    assert prevented == {"get": True, "dialog": False}
    assert "?" not in page.url
