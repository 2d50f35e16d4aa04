"""A newcomer's first minutes (issue 12): the index page, a unique username, sign-in by username or e-mail, forms
whose errors go away as soon as a field is right, lengths counted in characters (emoji included), toasts, and the
request id of a server failure shown on the page and found in the function's log."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from playwright.sync_api import Page, expect

from bootstrap.access import client
from tests.clients import User, make_password, read_code

pytestmark = pytest.mark.e2e

ROWS = 'tr[data-testid="album-row"]'
EN_DASH = "\u2013"  # the page writes ranges as 1900<en dash>2027
BROWSER_WORDING = re.compile(r"Please (fill|enter|match|include)|valid value", re.IGNORECASE)


def mails_to(stack, email: str) -> int:
    messages = requests.get(stack["MailboxUrl"], timeout=5).json().get("messages", {})
    return sum(email in message.get("To", []) for account in messages.values() for message in account)


def field_errors(page: Page) -> list[str]:
    return [text for text in page.locator("[data-error-for]").all_inner_texts() if text.strip()]


# ---- first visit ------------------------------------------------------------------------------------------------


def test_a_first_visit_says_what_the_app_is_and_offers_both_ways_in(page: Page, site) -> None:
    # GIVEN someone who has never signed in
    page.goto(site.url("index.html"))
    # THEN the index page stays, says in one line what the app is, and offers both buttons
    expect(page.locator("#tagline")).to_have_text(re.compile(r"^Keep a ranked list of your favourite music albums"))
    expect(page.get_by_role("link", name="Create account")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    # WHEN they choose Create account, THEN they are on the sign-up form
    page.click("#create-account")
    page.wait_for_url("**/signup.html")
    expect(page.locator("#signup-form")).to_be_visible()


def test_a_signed_in_person_goes_straight_to_the_dashboard(page: Page, site, new_user, sign_in) -> None:
    # GIVEN a signed-in person
    sign_in(page, new_user())
    # WHEN they open the index, sign-in or sign-up page, THEN they land on the dashboard instead
    for name in ("index.html", "signin.html", "signup.html"):
        page.goto(site.url(name))
        page.wait_for_url("**/dashboard.html")
        expect(page.locator(ROWS).first).to_be_visible()


# ---- username -----------------------------------------------------------------------------------------------------


def test_a_taken_username_is_refused_at_sign_up_before_any_code(page: Page, site, stack, new_user,
                                                                 console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # Cognito's UsernameExistsException
    # GIVEN someone already has a username (not even verified yet)
    taken = new_user(confirmed=False)
    email, password = f"second-{secrets.token_hex(4)}@example.com", make_password()
    # WHEN a new person signs up with the same username, typed in capitals
    page.goto(site.url("signup.html"))
    page.fill("#signup-username", taken.username.upper())
    page.fill("#signup-email", email)
    page.fill("#signup-password", password)
    page.click("#signup-submit")
    # THEN the username field says it is taken, the form stays, and no code was sent to their e-mail
    expect(page.locator("#signup-username-error")).to_have_text("This username is taken. Choose another one.")
    expect(page.locator("#signup-username")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#signup-section")).to_be_visible()
    assert mails_to(stack, email) == 0
    # WHEN they change the username, THEN the message goes at once, and signing up works
    page.fill("#signup-username", f"fresh{secrets.token_hex(4)}")
    expect(page.locator("#signup-username-error")).to_be_empty()
    expect(page.locator("#signup-username")).not_to_have_attribute("aria-invalid", "true")
    page.fill("#signup-password", password)
    page.click("#signup-submit")
    expect(page.locator("#verify-section")).to_be_visible()
    assert mails_to(stack, email) == 1


def test_sign_in_by_username_and_the_header_shows_it(page: Page, site, new_user) -> None:
    # GIVEN a verified account
    user = new_user()
    # WHEN they sign in with their username (in any case) instead of the e-mail
    page.goto(site.url("signin.html"))
    page.fill("#signin-email", user.username.upper())
    page.fill("#signin-password", user.password)
    page.click("#signin-submit")
    # THEN they are on the dashboard, and the header names them by username, with the e-mail beside it
    page.wait_for_url("**/dashboard.html")
    expect(page.locator("#user-name")).to_have_text(user.username)
    expect(page.locator("#user-email")).to_have_text(user.email)


def test_verifying_by_the_email_signed_up_with_in_this_browser(page: Page, site, stack, console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # UserNotConfirmedException
    # GIVEN a person who signed up in this browser, then left the page before entering the code
    tag = secrets.token_hex(4)
    user = User(email=f"later-{tag}@example.com", password=make_password(), username=f"later{tag}")
    page.goto(site.url("signup.html"))
    page.fill("#signup-username", user.username)
    page.fill("#signup-email", user.email)
    page.fill("#signup-password", user.password)
    page.click("#signup-submit")
    expect(page.locator("#verify-section")).to_be_visible()
    # WHEN they come back and try to sign in with the e-mail (not yet a sign-in name: it is unverified)
    page.goto(site.url("signin.html"))
    page.fill("#signin-email", user.email)
    page.fill("#signin-password", user.password)
    page.click("#signin-submit")
    # THEN they are sent to verify, with the e-mail filled in; the code verifies the account behind it
    page.wait_for_url("**/verify.html")
    expect(page.locator("#verify-email")).to_have_value(user.email)
    page.fill("#verify-code", read_code(user.email))
    page.click("#verify-submit")
    # THEN the account is verified, and they sign in with the e-mail
    page.wait_for_url("**/signin.html")
    expect(page.locator("#signin-message")).to_have_text("Your e-mail is verified. Sign in to continue.")
    page.fill("#signin-email", user.email)
    page.fill("#signin-password", user.password)
    page.click("#signin-submit")
    page.wait_for_url("**/dashboard.html")
    expect(page.locator("#user-name")).to_have_text(user.username)


# ---- forms --------------------------------------------------------------------------------------------------------


def test_sign_up_errors_clear_as_soon_as_each_field_is_right(page: Page, site) -> None:
    # GIVEN the sign-up form submitted empty
    page.goto(site.url("signup.html"))
    page.click("#signup-submit")
    # THEN each field has the app's own short message (never the browser's wording)
    expect(page.locator("#signup-username-error")).to_have_text("Choose a username.")
    expect(page.locator("#signup-email-error")).to_have_text("Enter your e-mail address.")
    expect(page.locator("#signup-password-error")).to_have_text("Choose a password.")
    assert not any(BROWSER_WORDING.search(text) for text in field_errors(page))
    # WHEN the username is typed, THEN its error goes at once, while the others stay
    page.locator("#signup-username").press_sequentially("newcomer")
    expect(page.locator("#signup-username-error")).to_be_empty()
    expect(page.locator("#signup-email-error")).not_to_be_empty()
    # WHEN the e-mail is half typed, THEN the message says what is still wrong; complete, it goes
    page.locator("#signup-email").press_sequentially("newcomer@")
    expect(page.locator("#signup-email-error")).to_have_text("Enter an e-mail address like name@example.com.")
    page.locator("#signup-email").press_sequentially("example.com")
    expect(page.locator("#signup-email-error")).to_be_empty()
    # WHEN the password meets some rules, the error stays; the moment all rules are green, it goes
    page.locator("#signup-password").press_sequentially("Pw1abcde")
    expect(page.locator("#signup-password-error")).to_have_text(
        "The password does not meet all the rules listed below it.")
    page.locator("#signup-password").press_sequentially("!")
    expect(page.locator('#password-rules li[data-met="false"]')).to_have_count(0)
    expect(page.locator("#signup-password-error")).to_be_empty()
    assert field_errors(page) == []


def test_password_rules_come_from_the_pool(page: Page, site, stack) -> None:
    # GIVEN the pool's own password policy, as Cognito reports it
    policy = client("cognito-idp").describe_user_pool(UserPoolId=stack["UserPoolId"])["UserPool"]["Policies"][
        "PasswordPolicy"]
    # WHEN the sign-up page lists the rules
    page.goto(site.url("signup.html"))
    # THEN they follow that policy (not a copy in the page)
    expect(page.locator('#password-rules li[data-rule="length"]')).to_contain_text(
        f"At least {policy['MinimumLength']} characters")
    flags = {"upper": "RequireUppercase", "lower": "RequireLowercase", "digit": "RequireNumbers",
             "symbol": "RequireSymbols"}
    for rule, flag in flags.items():
        expect(page.locator(f'#password-rules li[data-rule="{rule}"]')).to_have_count(1 if policy[flag] else 0)


@pytest.fixture
def on_add_album(page: Page, new_user, sign_in) -> Page:
    sign_in(page, new_user())
    page.click("#add-album-link")
    page.wait_for_url("**/add-album.html")
    expect(page.locator("body")).to_have_attribute("data-auth", "ok")
    return page


def fill_album(page: Page, rank: int | str, title: str, year: str = "1999") -> None:
    for field, value in (("rank", str(rank)), ("title", title), ("artist", "Emoji Band"), ("genre", "Pop"),
                         ("year", year)):
        page.fill(f"#album-{field}", value)


def test_add_album_errors_are_the_apps_and_clear_when_fixed(on_add_album: Page, albums, api_calls) -> None:
    page = on_add_album
    year_max = time.gmtime().tm_year + 1
    # GIVEN an album with a Year before 1900 and a Rank that is not a number
    fill_album(page, "12a", "Too Early", year="1800")
    # WHEN it is submitted
    page.click("#album-submit")
    # THEN the page says so in the API's words, next to the fields, and sends nothing
    expect(page.locator("#album-year-error")).to_have_text(f"Year must be 1900{EN_DASH}{year_max}.")
    expect(page.locator("#album-rank-error")).to_have_text(f"Rank must be 1{EN_DASH}1,000,000.")
    assert "POST" not in api_calls.methods()
    # WHEN the Year is corrected, THEN its message goes at once (no submit), the Rank's stays
    page.fill("#album-year", "1969")
    expect(page.locator("#album-year-error")).to_be_empty()
    expect(page.locator("#album-rank-error")).not_to_be_empty()
    page.fill("#album-rank", str(albums.free_rank()))
    expect(page.locator("#album-rank-error")).to_be_empty()
    assert not any(BROWSER_WORDING.search(text) for text in field_errors(page))


def test_the_edit_row_uses_the_same_checks_and_clears_them_too(page: Page, new_user, sign_in, albums,
                                                               api_calls) -> None:
    # GIVEN a signed-in person editing an album on the dashboard
    title = f"Edit Checks {secrets.token_hex(4)}"
    album = albums.create(Album=title, Year=1999)
    sign_in(page, new_user())
    page.goto(page.url.split("dashboard.html")[0] + f"dashboard.html?q={title.replace(' ', '+')}")
    row = page.locator(f'{ROWS}[data-rank="{album["Rank"]}"]')
    row.locator('[data-testid="edit-album"]').click()
    editing = page.locator('tr[data-editing="true"]')
    # WHEN the Year is set before 1900 and saved
    editing.locator('[data-testid="edit-Year"]').fill("1800")
    editing.locator('[data-testid="save-album"]').click()
    # THEN the row shows the app's short message (not the browser's), and nothing is sent
    year_max = time.gmtime().tm_year + 1
    expect(page.locator("#edit-Year-error")).to_have_text(f"Year must be 1900{EN_DASH}{year_max}.")
    assert "PUT" not in api_calls.methods()
    # WHEN it is corrected, THEN the message goes at once, before any Save
    page.locator('[data-testid="edit-Year"]').fill("1969")
    expect(page.locator("#edit-Year-error")).to_be_empty()
    expect(page.locator('[data-testid="edit-Year"]')).not_to_have_attribute("aria-invalid", "true")


def test_lengths_are_characters_so_150_emoji_fit_and_201_do_not(on_add_album: Page, albums, api_calls) -> None:
    page = on_add_album
    rank = albums.free_rank()
    # GIVEN a title of 201 emoji (402 UTF-16 units, 201 characters)
    fill_album(page, rank, "🎸" * 201)
    page.click("#album-submit")
    # THEN the page refuses it, counting characters as the API does, and sends nothing
    # (the message names the field by its label in the field table)
    expect(page.locator("#album-title-error")).to_have_text("Album must be at most 200 characters (now 201).")
    assert "POST" not in api_calls.methods()
    # WHEN the title is 150 emoji (300 UTF-16 units: more than the browser's maxlength would have allowed)
    page.fill("#album-title", "🎸" * 150)
    expect(page.locator("#album-title-error")).to_be_empty()
    page.click("#album-submit")
    # THEN the album is added with all 150 of them
    page.wait_for_url("**/dashboard.html*")
    stored = albums.get(rank)
    assert stored is not None and stored["Album"] == "🎸" * 150 and len(stored["Album"]) == 150


# ---- toasts and request ids ----------------------------------------------------------------------------------------


def test_a_toast_is_announced_offers_its_action_and_goes_away(page: Page, site) -> None:
    page.goto(site.url("index.html"))
    # WHEN the page shows a toast with an action
    page.evaluate("""async () => {
        const { showToast } = await import('./js/toast.js');
        window.undone = false;
        showToast({ message: 'Deleted album 7.', action: { label: 'Undo', onClick: () => { window.undone = true; } } });
    }""")
    # THEN it is a polite status message, fixed to the viewport, with the action button
    toast = page.get_by_test_id("toast")
    expect(toast).to_have_attribute("role", "status")
    expect(toast).to_have_attribute("aria-live", "polite")
    expect(toast).to_contain_text("Deleted album 7.")
    assert page.locator("#toast-region").evaluate("node => getComputedStyle(node).position") == "fixed"
    # WHEN the action is used, THEN it runs and the toast closes
    page.get_by_test_id("toast-action").click()
    expect(toast).to_have_count(0)
    assert page.evaluate("window.undone") is True
    # AND a toast without an action goes away by itself (the pointer moved off it: hovering pauses the timer)
    page.mouse.move(0, 0)
    page.evaluate("""async () => {
        const { showToast } = await import('./js/toast.js');
        showToast({ message: 'Saved.', timeout: 300 });
    }""")
    expect(page.get_by_test_id("toast")).to_have_text(re.compile("Saved."))
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=3000)


@pytest.fixture
def create_cannot_write(stack) -> Iterator[Callable[[], None]]:
    """Take dynamodb:PutItem away from the create function's role (MiniStack enforces IAM), so the function fails
    for real with an AccessDenied; returns `restore`. Always restored at teardown."""
    iam = client("iam")
    role, name = "albums-create-role", "albums-table-access"
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    original = json.loads(document) if isinstance(document, str) else document

    def without_put(statement: dict) -> dict:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        return {**statement, "Action": [action for action in actions if action != "dynamodb:PutItem"]}

    broken = {**original, "Statement": [without_put(statement) for statement in original["Statement"]]}
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(broken))

    def restore() -> None:
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(original))

    try:
        yield restore
    finally:
        restore()


@pytest.mark.alone  # create_cannot_write breaks the create function for every user of the stack
def test_a_server_failure_shows_the_reference_of_its_log_line(on_add_album: Page, stack, albums, console_errors,
                                                               create_cannot_write) -> None:
    console_errors.allow_failed_response(500, stack["ApiUrl"])
    page = on_add_album
    rank = albums.free_rank()
    fill_album(page, rank, "Server Trouble")
    # WHEN the create function fails (its role may no longer write to the table)
    with page.expect_response(lambda r: r.url.startswith(stack["ApiUrl"]) and r.request.method == "POST") as answer:
        page.click("#album-submit")
    assert answer.value.status == 500
    request_id = answer.value.json()["error"]["requestId"]
    # THEN the page and the toast (an alert) say so, with the request id as the reference
    expect(page.locator("#album-form-message")).to_contain_text(f"Reference: {request_id}")
    toast = page.get_by_test_id("toast")
    expect(toast).to_have_attribute("role", "alert")
    expect(toast).to_contain_text(f"Reference: {request_id}")
    # AND that reference finds the function's error log line
    logged = client("logs").filter_log_events(logGroupName="/aws/lambda/albums-create",
                                              filterPattern=f'"{request_id}"')["events"]
    errors = [json.loads(event["message"]) for event in logged if event["message"].startswith("{")]
    assert any(entry["level"] == "ERROR" and entry["request_id"] == request_id for entry in errors), logged
    # WHEN the problem is fixed and they use the toast's "Try again", THEN the album is added
    create_cannot_write()
    page.get_by_test_id("toast-action").click()
    page.wait_for_url("**/dashboard.html*")
    assert albums.get(rank)["Album"] == "Server Trouble"
