"""Accounts that look after themselves, in Chromium through the real pages and the (emulated) Cognito: a forgotten
password, a change of password, two-step sign-in with an authenticator app (on, sign-in with it, off), deleting the
account, sign-out revoking the refresh token, and a reader's read-only dashboard. Tests that are not about signing
in start signed in (tests/e2e/users.py); the codes of the "authenticator app" come from pyotp."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from bootstrap.access import ROOT
from tests.clients import User, cognito, make_password, read_code
from tests.clients import sign_in as sign_in_for_tokens
from tests.e2e.browser import Site

pytestmark = pytest.mark.e2e

ROWS = 'tr[data-testid="album-row"]'
TOAST = "#toast-region [data-testid=toast]"
JSQR = ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js"


def refresh_is_refused(stack: dict, refresh_token: str) -> bool:
    try:
        cognito().initiate_auth(ClientId=stack["UserPoolClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                                AuthParameters={"REFRESH_TOKEN": refresh_token})
    except cognito().exceptions.NotAuthorizedException:
        return True
    return False


def password_works(stack: dict, login: str, password: str) -> bool:
    try:
        result = cognito().initiate_auth(ClientId=stack["UserPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": login, "PASSWORD": password})
    except cognito().exceptions.NotAuthorizedException:
        return False
    return "AuthenticationResult" in result or result.get("ChallengeName") == "SOFTWARE_TOKEN_MFA"


def fresh_code(totp: pyotp.TOTP, used: set[str]) -> str:
    """A code the app shows now, not one used before: the current step's, else the next or the previous step's (both
    accepted for clock drift, by Cognito as by the emulator), so the test never waits 30 s for a new step."""
    now = time.time()
    code = next(candidate for candidate in (totp.at(now), totp.at(now + 30), totp.at(now - 30))
                if candidate not in used)
    used.add(code)
    return code


def decoded_qr(page: Page) -> str:
    """What a phone's camera reads from #two-step-qr: the image drawn on a canvas, decoded by jsQR (npm)."""
    page.evaluate(Path(JSQR).read_text())  # defines window.jsQR (evaluated by the test, not loaded by the page)
    return page.evaluate("""() => {
        const img = document.getElementById('two-step-qr');
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(pixels.data, canvas.width, canvas.height);
        return found ? found.data : null;
    }""")


def sign_in_with_password(page: Page, site: Site, user: User) -> None:
    page.goto(site.url("signin.html"))
    page.fill("#signin-email", user.email)
    page.fill("#signin-password", user.password)
    page.click("#signin-submit")


def test_two_step_sign_in_on_sign_in_with_it_and_off(page: Page, site: Site, stack, new_user, sign_in,
                                                     console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # the wrong codes: Cognito's 400s
    user: User = new_user(label="totp")
    sign_in(page, user)

    # GIVEN the account page, two-step sign-in off
    page.click("#account-link")
    expect(page.locator("#two-step-status")).to_have_attribute("data-state", "off")
    # WHEN they turn it on
    page.click("#two-step-on")
    # THEN the secret is shown as text and as a QR code of the otpauth address holding the same secret
    expect(page.locator("#two-step-secret")).not_to_be_empty()
    secret = page.locator("#two-step-secret").inner_text().replace(" ", "")
    expect(page.locator("#two-step-qr")).to_be_visible()
    assert decoded_qr(page) == f"otpauth://totp/Albums:{user.username}?secret={secret}&issuer=Albums"
    totp, used = pyotp.TOTP(secret), set[str]()
    # and a wrong code does not turn it on
    page.fill("#two-step-code", "000000" if totp.now() != "000000" else "111111")
    page.click("#two-step-verify")
    expect(page.locator("#two-step-message")).to_have_attribute("data-kind", "error")
    expect(page.locator("#two-step-status")).to_have_attribute("data-state", "off")
    # while the app's code does
    page.fill("#two-step-code", fresh_code(totp, used))
    page.click("#two-step-verify")
    expect(page.locator("#two-step-status")).to_have_attribute("data-state", "on")
    expect(page.locator("#two-step-secret")).to_be_empty()

    # WHEN they sign out and sign in again with their password
    page.click("#sign-out")
    page.wait_for_url("**/signin.html")
    sign_in_with_password(page, site, user)
    # THEN sign-in asks for the code: a wrong one is refused, the app's current one signs in
    expect(page.locator("#signin-code-form")).to_be_visible()
    page.fill("#signin-code", "123456" if totp.now() != "123456" else "654321")
    page.click("#signin-code-submit")
    expect(page.locator("#signin-code-message")).to_contain_text("not right")
    page.fill("#signin-code", fresh_code(totp, used))
    page.click("#signin-code-submit")
    page.wait_for_url("**/dashboard.html")
    expect(page.locator(ROWS).first).to_be_visible()

    # WHEN they turn it off (confirming in the dialog)
    page.goto(site.url("account.html"))
    expect(page.locator("#two-step-status")).to_have_attribute("data-state", "on")
    page.click("#two-step-off")
    page.click("#two-step-off-confirm")
    expect(page.locator("#two-step-status")).to_have_attribute("data-state", "off")
    # THEN the password alone signs in again
    page.click("#sign-out")
    page.wait_for_url("**/signin.html")
    sign_in_with_password(page, site, user)
    page.wait_for_url("**/dashboard.html")


def test_forgotten_password_never_tells_who_has_an_account(page: Page, site: Site, stack, new_user,
                                                            console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # the wrong code
    user: User = new_user(label="forgot")

    # GIVEN the sign-in page's link; WHEN someone asks for a code for an address that has no account
    page.goto(site.url("signin.html"))
    page.click("#forgot-link")
    page.wait_for_url("**/forgot-password.html")  # loaded: its module handles the form (a click before it does nothing)
    page.fill("#forgot-login", "nobody-here@example.com")
    page.click("#forgot-submit")
    # THEN they get the very step an account's owner gets
    expect(page.locator("#reset-form")).to_be_visible()
    expect(page.locator("#reset-intro")).to_have_text(
        "If “nobody-here@example.com” has an account, we have e-mailed a code to its address. "
        "Enter it and choose a new password.")

    # WHEN the owner asks (by e-mail), enters a wrong code, then the e-mailed one and a new password
    page.goto(site.url("forgot-password.html"))
    page.fill("#forgot-login", user.email)
    page.click("#forgot-submit")
    expect(page.locator("#mailbox-link")).to_have_attribute("href", stack["MailboxUrl"])
    new_password = make_password()
    page.fill("#reset-code", "000001")
    page.fill("#reset-password", new_password)
    page.click("#reset-submit")
    expect(page.locator("#reset-message")).to_contain_text("That code is not right")
    page.fill("#reset-code", read_code(user.email))
    page.fill("#reset-password", new_password)
    page.click("#reset-submit")
    # THEN they are signed in on the dashboard, told so; the new password works and the old one no longer does
    page.wait_for_url("**/dashboard.html")
    expect(page.locator(TOAST)).to_contain_text("Your password is changed")
    assert password_works(stack, user.email, new_password)
    assert not password_works(stack, user.email, user.password)


def test_change_password_then_sign_out_revokes_the_refresh_token(page: Page, site: Site, stack, new_user, sign_in,
                                                                  console_errors) -> None:
    console_errors.allow_failed_response(400, stack["EndpointUrl"])  # the wrong current password
    user: User = new_user(label="change")
    sign_in(page, user)
    page.click("#account-link")
    expect(page.locator("#account-role")).to_contain_text("You are an editor")
    new_password = make_password()

    page.fill("#current-password", "Wrong1!password")
    page.fill("#new-password", new_password)
    page.click("#password-submit")
    expect(page.locator("#password-message")).to_have_text("Your current password is not right.")
    page.fill("#current-password", user.password)
    page.fill("#new-password", new_password)
    page.click("#password-submit")
    expect(page.locator("#password-message")).to_contain_text("Your password is changed")
    assert password_works(stack, user.username, new_password)
    assert not password_works(stack, user.username, user.password)

    # Sign-out ends the session at Cognito: the refresh token this browser held can mint no more tokens.
    assert not refresh_is_refused(stack, user.tokens["RefreshToken"])
    page.click("#sign-out")
    page.wait_for_url("**/signin.html")
    assert refresh_is_refused(stack, user.tokens["RefreshToken"])


def test_delete_account_after_typing_the_username(page: Page, site: Site, stack, new_user, sign_in) -> None:
    user: User = new_user(label="leaver")
    sign_in(page, user)
    page.goto(site.url("account.html"))
    expect(page.locator("#delete-account-name")).to_have_text(user.username)

    page.fill("#delete-account-confirm", "someone-else")
    page.click("#delete-account-submit")
    expect(page.locator("#delete-account-confirm-error")).to_contain_text(f"Type your username, {user.username}")
    page.fill("#delete-account-confirm", user.username)
    page.click("#delete-account-submit")

    page.wait_for_url("**/signin.html")
    expect(page.locator("#signin-message")).to_have_text("Your account is deleted, and you are signed out everywhere.")
    with pytest.raises(cognito().exceptions.UserNotFoundException):
        cognito().admin_get_user(UserPoolId=stack["UserPoolId"], Username=user.username)
    assert refresh_is_refused(stack, user.tokens["RefreshToken"])
    page.goto(site.url("dashboard.html"))
    page.wait_for_url("**/signin.html")


def test_a_reader_reads_only_until_made_an_editor(page: Page, site: Site, stack, new_user, sign_in) -> None:
    user: User = new_user(label="reader")
    pool = stack["UserPoolId"]
    cognito().admin_remove_user_from_group(UserPoolId=pool, Username=user.username, GroupName="editors")
    sign_in(page, sign_in_for_tokens(user))  # a token without the group

    # THEN the dashboard lists the albums, says they can read only, and offers no Add, Edit or Delete
    expect(page.locator("#read-only-notice")).to_be_visible()
    expect(page.locator("#add-album-link")).to_be_hidden()
    expect(page.locator(ROWS).first).to_be_visible()
    expect(page.locator('[data-testid="edit-album"], [data-testid="delete-album"]')).to_have_count(0)
    # and the add page sends them back with a word of explanation
    page.goto(site.url("add-album.html"))
    page.wait_for_url("**/dashboard.html")
    expect(page.locator(TOAST)).to_contain_text("Only editors can add albums")

    # WHEN an administrator makes them an editor (make editor) and they check again: no need to sign out
    cognito().admin_add_user_to_group(UserPoolId=pool, Username=user.username, GroupName="editors")
    page.click("#check-access")
    expect(page.locator(TOAST)).to_contain_text("You are an editor now")
    expect(page.locator("#read-only-notice")).to_be_hidden()
    expect(page.locator("#add-album-link")).to_be_visible()
    expect(page.locator('[data-testid="edit-album"]').first).to_be_visible()
