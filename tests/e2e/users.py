"""Users for the browser tests: fresh confirmed (or unconfirmed) accounts, and signing them in."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.clients import User, confirmed_user, sign_up
from tests.e2e.browser import Site

# ---- users ------------------------------------------------------------------------------------------------------


@pytest.fixture
def new_user(stack: dict[str, Any]) -> Callable[..., User]:
    """Factory: a fresh user with a unique e-mail. confirmed=True signs up through cognito-idp at EndpointUrl and
    confirms with the code read from the local mailbox (MailboxUrl); confirmed=False leaves it UNCONFIRMED."""

    def make(*, confirmed: bool = True, label: str = "e2e") -> User:
        return confirmed_user(label) if confirmed else sign_up(label)

    return make


# Runs before any script of every page of the context: puts the tokens where amazon-cognito-identity-js keeps them,
# once per tab (a flag in sessionStorage), so a later sign-out in the test really signs out.
SIGNED_IN_SCRIPT = """
(() => {
  const seed = %s;
  if (sessionStorage.getItem('e2e.signedIn')) return;
  sessionStorage.setItem('e2e.signedIn', '1');
  for (const [key, value] of Object.entries(seed)) localStorage.setItem(key, value);
})();
"""


@pytest.fixture
def sign_in(site: Site, stack: dict[str, Any]) -> Callable[[Page, User], None]:
    """sign_in(page, user): `user` signed in, on the dashboard with its first rows shown.

    For tests that are not about signing in: the tokens come from Cognito's API and are put where the browser SDK
    keeps them (the same localStorage keys it writes after a sign-in), which saves the ~1 s of SRP arithmetic in the
    browser per test. The sign-in page itself is covered by the journey, the failure paths and
    `sign_in_with_the_form`."""

    def run(page: Page, user: User) -> None:
        tokens = user.tokens
        claims = json.loads(base64.urlsafe_b64decode(_payload(tokens["IdToken"])))
        prefix = f"CognitoIdentityServiceProvider.{stack['UserPoolClientId']}"
        username = claims["cognito:username"]
        seed = {
            f"{prefix}.LastAuthUser": username,
            f"{prefix}.{username}.idToken": tokens["IdToken"],
            f"{prefix}.{username}.accessToken": tokens["AccessToken"],
            f"{prefix}.{username}.refreshToken": tokens.get("RefreshToken", ""),
            f"{prefix}.{username}.clockDrift": "0",
        }
        page.context.add_init_script(SIGNED_IN_SCRIPT % json.dumps(seed))
        page.goto(site.url("dashboard.html"))
        expect(page.locator("body")).to_have_attribute("data-auth", "ok")
        expect(page.locator('tr[data-testid="album-row"]').first).to_be_visible()

    return run


def _payload(jwt: str) -> str:
    part = jwt.split(".")[1]
    return part + "=" * (-len(part) % 4)


@pytest.fixture
def sign_in_with_the_form(site: Site) -> Callable[[Page, User], None]:
    """sign_in_with_the_form(page, user): through the sign-in page, ending on the dashboard with its first rows."""

    def run(page: Page, user: User) -> None:
        page.goto(site.url("signin.html"))
        page.fill("#signin-email", user.email)
        page.fill("#signin-password", user.password)
        page.click("#signin-submit")
        page.wait_for_url("**/dashboard.html*")
        expect(page.locator('tr[data-testid="album-row"]').first).to_be_visible()

    return run

