"""Journey 2: what a person sees when things go wrong — wrong code, wrong password, unknown e-mail, an account not
verified yet, a taken Rank, an invalid Year, two people editing the same album, and the back button after sign-out.

Each expected HTTP error (Cognito 400, API 409) is allowed by exactly its console line; anything else still fails."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.clients import cognito, read_code
from tests.e2e.browser import person_chromium_path

pytestmark = pytest.mark.e2e

ROWS = 'tr[data-testid="album-row"]'
WRONG_CREDENTIALS = "Incorrect username, e-mail or password."
SIGN_IN_URL = re.compile(r"/signin\.html$")


def cognito_status(stack, username: str) -> str:
    return cognito().admin_get_user(UserPoolId=stack["UserPoolId"], Username=username)["UserStatus"]


def signed_in_tokens(page: Page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('CognitoIdentityServiceProvider.'))")


def open_album(page: Page, album: dict):
    """On the dashboard: search for the album (its title is unique to the test) and return its row."""
    page.fill("#search", album["Album"])
    row = page.locator(f'{ROWS}[data-rank="{album["Rank"]}"]')
    expect(row).to_be_visible()
    return row


def test_wrong_code_keeps_the_account_unconfirmed(page: Page, site, stack, new_user, console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # Cognito's CodeMismatchException
    # GIVEN a person who signed up and has a code in the mailbox
    user = new_user(confirmed=False)
    code = read_code(user.email)
    wrong = f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"
    # WHEN they enter a different code on the verify page
    page.goto(site.url("verify.html"))
    page.fill("#verify-email", user.username)
    page.fill("#verify-code", wrong)
    page.click("#verify-submit")
    # THEN the page says the code is not right and stays where it is
    message = page.locator("#verify-message")
    expect(message).to_have_attribute("data-kind", "error")
    expect(message).to_contain_text("That code is not right for this account.")
    expect(page).to_have_url(re.compile(r"/verify\.html$"))
    expect(page.locator("#verify-submit")).to_be_enabled()
    # AND the account is still unconfirmed
    assert cognito_status(stack, user.username) == "UNCONFIRMED"


def test_wrong_password_is_refused(page: Page, site, stack, new_user, console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # NotAuthorizedException
    # GIVEN a verified account
    user = new_user()
    # WHEN they sign in with a wrong password
    page.goto(site.url("signin.html"))
    page.fill("#signin-email", user.email)
    page.fill("#signin-password", user.password + "x")
    page.click("#signin-submit")
    # THEN the page says so, clears the password, and nothing else happens
    expect(page.locator("#signin-message")).to_have_text(WRONG_CREDENTIALS)
    expect(page.locator("#signin-message")).to_have_attribute("data-kind", "error")
    expect(page.locator("#signin-password")).to_have_value("")
    expect(page).to_have_url(SIGN_IN_URL)
    assert signed_in_tokens(page) == []


def test_unknown_email_is_refused_like_a_wrong_password(page: Page, site, stack, console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # UserNotFoundException
    # GIVEN an e-mail nobody signed up with
    email = f"nobody-{secrets.token_hex(4)}@example.com"
    # WHEN someone tries to sign in with it
    page.goto(site.url("signin.html"))
    page.fill("#signin-email", email)
    page.fill("#signin-password", "Pw1!whatever")
    page.click("#signin-submit")
    # THEN they get the same answer as for a wrong password (the page does not reveal which e-mails exist)
    expect(page.locator("#signin-message")).to_have_text(WRONG_CREDENTIALS)
    expect(page).to_have_url(SIGN_IN_URL)
    assert signed_in_tokens(page) == []


def test_unconfirmed_user_signing_in_is_sent_to_verify(page: Page, site, stack, new_user, console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # UserNotConfirmedException
    # GIVEN a person who signed up but never entered their code
    user = new_user(confirmed=False)
    # WHEN they try to sign in with their username (an unverified e-mail is not a sign-in name yet, as on AWS)
    page.goto(site.url("signin.html"))
    page.fill("#signin-email", user.username)
    page.fill("#signin-password", user.password)
    page.click("#signin-submit")
    # THEN they land on Verify with their username filled in and a note why
    page.wait_for_url("**/verify.html")
    expect(page.locator("#verify-email")).to_have_value(user.username)
    expect(page.locator("#verify-message")).to_contain_text("not verified yet")
    expect(page.locator("#verify-code")).to_be_focused()
    # AND WHEN they enter the code from the mailbox, they can sign in with the username already filled in
    page.fill("#verify-code", read_code(user.email))
    page.click("#verify-submit")
    page.wait_for_url("**/signin.html")
    expect(page.locator("#signin-email")).to_have_value(user.username)
    page.fill("#signin-password", user.password)
    page.click("#signin-submit")
    page.wait_for_url("**/dashboard.html")
    expect(page.locator(ROWS).first).to_be_visible()


def fill_album_form(page: Page, rank: int, title: str, artist: str, genre: str, year: str) -> None:
    for field, value in (("rank", str(rank)), ("title", title), ("artist", artist), ("genre", genre), ("year", year)):
        page.fill(f"#album-{field}", value)


def test_duplicate_rank_is_refused_and_overwrites_nothing(page: Page, site, stack, new_user, sign_in, albums,
                                                          console_errors) -> None:
    console_errors.allow_failed_response(409, stack["ApiUrl"])  # rank_taken
    # GIVEN an album at some Rank, and a signed-in person on the Add album page
    existing = albums.create(Album="Already Here", Artist="First Artist")
    rank = existing["Rank"]
    sign_in(page, new_user())
    page.click("#add-album-link")
    page.wait_for_url("**/add-album.html")
    # WHEN they add another album at the same Rank
    fill_album_form(page, rank, "Trying To Take It", "Second Artist", "Pop", "2010")
    page.click("#album-submit")
    # THEN the Rank field says it is taken, the form stays filled in, and they stay on the page
    expect(page.locator("#album-rank-error")).to_have_text(f"Rank {rank} is already taken by another album.")
    expect(page.locator("#album-rank")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#album-form-message")).to_have_text(f"Rank {rank} is already taken. Choose a free Rank.")
    expect(page.locator("#album-title")).to_have_value("Trying To Take It")
    expect(page).to_have_url(re.compile(r"/add-album\.html$"))
    # AND the album that was there is untouched
    assert albums.get(rank) == existing


def test_invalid_year_shows_a_field_error_and_creates_nothing(page: Page, site, new_user, sign_in, albums) -> None:
    # GIVEN a signed-in person on the Add album page, and a free Rank
    sign_in(page, new_user())
    page.click("#add-album-link")
    page.wait_for_url("**/add-album.html")
    rank = albums.free_rank()
    # WHEN they enter a Year before 1900
    fill_album_form(page, rank, "Too Early", "Nobody", "Rock", "1850")
    page.click("#album-submit")
    # THEN the Year field (only) shows an error next to it and the form says what to do
    expect(page.locator("#album-year-error")).to_contain_text("1900")
    expect(page.locator("#album-year")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#album-year")).to_be_focused()
    expect(page.locator("#album-form-message")).to_contain_text("need fixing")
    for other in ("rank", "title", "artist", "genre"):
        expect(page.locator(f"#album-{other}-error")).to_have_text("")
    expect(page).to_have_url(re.compile(r"/add-album\.html$"))
    # AND nothing was created
    assert albums.get(rank) is None


# Runs before config.js: whatever the stack writes into window.APP_CONFIG is kept with Year's maximum raised to 9999.
STALE_YEAR_RULE = """
Object.defineProperty(window, 'APP_CONFIG', {
  configurable: true,
  set(value) {
    const stale = JSON.parse(JSON.stringify(value));
    stale.albumSchema.properties.Year.maximum = 9999;
    Object.defineProperty(window, 'APP_CONFIG', { value: stale, configurable: true });
  },
});
"""


def test_the_api_is_the_judge_when_the_page_hints_are_bypassed(page: Page, site, stack, new_user, sign_in, albums,
                                                               console_errors) -> None:
    console_errors.allow_failed_response(400, stack["ApiUrl"])  # the API's validation_error, shown in the form
    # GIVEN a signed-in person on the Add album page whose page checks a stale rule (an old config.js that allows
    # any Year up to 9999): the API must still refuse the album and the page must say why
    page.add_init_script(STALE_YEAR_RULE)
    sign_in(page, new_user())
    page.click("#add-album-link")
    page.wait_for_url("**/add-album.html")
    rank = albums.free_rank()
    # WHEN they submit a Year far in the future
    fill_album_form(page, rank, "From The Future", "Nobody Yet", "Rock", "2999")
    with page.expect_response(lambda r: r.url.startswith(stack["ApiUrl"]) and r.request.method == "POST") as answer:
        page.click("#album-submit")
    # THEN the API answered 400 naming Year, and the page shows that error next to the Year field
    assert answer.value.status == 400
    assert "Year" in answer.value.json()["error"]["fields"]
    expect(page.locator("#album-year-error")).not_to_have_text("")
    expect(page).to_have_url(re.compile(r"/add-album\.html$"))
    # AND nothing was created
    assert albums.get(rank) is None


def test_edit_conflict_shows_current_values_and_retry_wins(page: Page, second_page: Page, stack, new_user, sign_in,
                                                           albums, console_errors) -> None:
    console_errors.allow_failed_response(409, stack["ApiUrl"])  # version_conflict, seen by the second window
    # GIVEN an album, and the same person signed in in two browser windows, both showing it
    album = albums.create(Album=f"Conflict Original {secrets.token_hex(3)}", Artist="Original Artist", Year=1990)
    rank = album["Rank"]
    user = new_user()
    sign_in(page, user)
    sign_in(second_page, user)
    first_row, second_row = open_album(page, album), open_album(second_page, album)
    # WHEN both start editing it; the first window renames it and saves
    first_row.locator('[data-testid="edit-album"]').click()
    second_row.locator('[data-testid="edit-album"]').click()
    page.locator('[data-testid="edit-Album"]').fill("Renamed In Window One")
    page.locator('[data-testid="save-album"]').click()
    expect(page.get_by_test_id("toast")).to_contain_text(f"Saved album {rank}")
    # AND the second window, still on the old version, changes the artist and saves
    second_page.locator('[data-testid="edit-Artist"]').fill("Artist From Window Two")
    second_page.locator('[data-testid="save-album"]').click()
    # THEN the second window says someone else changed it and shows the current values
    expect(second_page.get_by_test_id("toast")).to_contain_text("Someone else changed this album")
    expect(second_page.get_by_test_id("toast")).to_have_attribute("data-kind", "error")
    current = second_page.locator('[data-testid="row-message"] [data-testid="conflict-current"]')
    expect(current.locator('strong[data-field="Album"]')).to_have_text("Renamed In Window One")
    expect(current.locator('strong[data-field="Artist"]')).to_have_text("Original Artist")
    expect(current.locator('strong[data-field="Year"]')).to_have_text("1990")
    # AND keeps their own edit while taking the other window's title
    expect(second_page.locator('[data-testid="edit-Artist"]')).to_have_value("Artist From Window Two")
    expect(second_page.locator('[data-testid="edit-Album"]')).to_have_value("Renamed In Window One")
    # WHEN they save again
    second_page.locator('[data-testid="save-album"]').click()
    # THEN it saves, with both changes
    expect(second_page.get_by_test_id("toast")).to_contain_text(f"Saved album {rank}")
    expect(second_row.locator('td[data-field="Artist"]')).to_have_text("Artist From Window Two")
    expect(second_row.locator('td[data-field="Album"]')).to_have_text("Renamed In Window One")
    saved = albums.get(rank)
    assert (saved["Album"], saved["Artist"], saved["Year"], saved["version"]) == (
        "Renamed In Window One", "Artist From Window Two", 1990, 3)


# Records, in this tab's sessionStorage, what each page held at the moment it was shown (pageshow also fires when the
# back/forward cache restores a page, before the page's own handlers can redirect).
SHOWN_PAGES_PROBE = """window.addEventListener('pageshow', (event) => {
  const shown = JSON.parse(sessionStorage.getItem('e2e.shown') || '[]');
  shown.push({page: location.pathname.split('/').pop(), restored: event.persisted,
              rows: document.querySelectorAll('[data-testid="album-row"]').length,
              albumText: document.getElementById('albums-body')?.textContent || ''});
  sessionStorage.setItem('e2e.shown', JSON.stringify(shown));
});"""


@pytest.fixture
def bfcache_page(browser_type, browser_type_launch_args, console_errors, api_calls) -> Iterator[Page]:
    """A page in a Chromium with the back/forward cache ON, as in a person's browser (Playwright turns it off by
    default, so `page` always reloads on back and never shows what a restored page would)."""
    # The full browser: the headless shell the other tests use never restores a page from the cache.
    path = person_chromium_path()
    args = {key: value for key, value in browser_type_launch_args.items() if key != "executable_path"}
    browser = browser_type.launch(**args, **({"executable_path": path} if path else {"channel": "chromium"}),
                                  ignore_default_args=["--disable-back-forward-cache"])
    try:
        context = browser.new_context()
        context.set_default_timeout(15_000)
        console_errors.watch(context)
        api_calls.watch(context)
        yield context.new_page()
    finally:
        browser.close()


@pytest.mark.parametrize("back_forward_cache", ["off", "on"])
def test_back_after_sign_out_shows_no_album_data(request, site, new_user, sign_in, back_forward_cache: str) -> None:
    page: Page = request.getfixturevalue("page" if back_forward_cache == "off" else "bfcache_page")
    page.context.add_init_script(SHOWN_PAGES_PROBE)
    # GIVEN a signed-in person who saw the albums, then went on to another page and signed out there
    sign_in(page, new_user())
    first_title = page.locator(f'{ROWS} td[data-field="Album"]').first.inner_text()
    page.click("#add-album-link")
    page.wait_for_url("**/add-album.html")
    expect(page.locator("body")).to_have_attribute("data-auth", "ok")
    page.click("#sign-out")
    page.wait_for_url("**/signin.html")
    shown_before_back = len(page.evaluate("JSON.parse(sessionStorage.getItem('e2e.shown'))"))
    # WHEN they press the browser's back button (the entry behind is the dashboard with albums)
    if back_forward_cache == "on":
        page.evaluate("history.back()")  # page.go_back() waits for load events a cache restore never fires
    else:
        page.go_back()
    # THEN they end up on Sign in, and no album data is on the page
    expect(page).to_have_url(SIGN_IN_URL)
    expect(page.locator("#signin-form")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(0)
    expect(page.get_by_text(first_title)).to_have_count(0)
    assert first_title not in page.content()
    # AND if the dashboard was shown on the way back (a cache restore; a fresh load redirects before it is shown),
    # it held no album at that moment
    shown = page.evaluate("JSON.parse(sessionStorage.getItem('e2e.shown'))")[shown_before_back:]
    back_on_dashboard = [entry for entry in shown if entry["page"] == "dashboard.html"]
    assert all(entry["rows"] == 0 and first_title not in entry["albumText"] for entry in back_on_dashboard), shown
    if back_forward_cache == "on":
        assert any(entry["restored"] for entry in back_on_dashboard), f"not restored from the cache: {shown}"
