"""Accessibility: every page, in the states a user meets, has no serious or critical WCAG 2.1 A/AA violation that
axe-core (node_modules/axe-core, pinned in package.json) can find, and its text fields' borders and focus outline
have the 3:1 non-text contrast axe does not measure. Automated checks catch only part of WCAG; they keep contrast,
names, labels, landmarks and ARIA from regressing, not more.

The pages' Content-Security-Policy (script-src 'self') refuses the inline script Playwright injects axe with, so this
module's browser contexts are created with bypass_csp=True. That is for these tests only: every other e2e test runs
under the real CSP, which is how the CSP itself stays tested. The autouse console-error and token checks of
conftest.py still apply here (the marker only changes how `context` is created).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bootstrap.access import ROOT
from tests.clients import User, confirmed_user, make_password

pytestmark = [pytest.mark.e2e, pytest.mark.browser_context_args(bypass_csp=True)]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
PHONE = {"width": 375, "height": 812}
THEMES = ("light", "dark")
ROWS = 'tr[data-testid="album-row"]'

RUN_AXE = """tags => axe.run(document, {
  runOnly: {type: 'tag', values: tags},
  resultTypes: ['violations'],
}).then(results => results.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
  targets: v.nodes.slice(0, 3).map(node => node.target.join(' ')), count: v.nodes.length,
})))"""

# WCAG 1.4.11 (non-text contrast, AA), which axe does not check: a text field's border is all that shows where it is,
# and the focus outline (offset onto the surrounding background) is all that shows where focus is; each needs 3:1
# against what it touches. Checked for every visible text field and for the focused element, in every audited state.
NON_TEXT_CONTRAST = """() => {
  const rgba = (css) => { const [r, g, b, a = 1] = css.match(/[\\d.]+/g).map(Number); return {r, g, b, a}; };
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const lum = ({r, g, b}) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const ratio = (x, y) => {
    const [hi, lo] = [lum(x), lum(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const color = rgba(getComputedStyle(node).backgroundColor);
      if (color.a === 1) return color;
    }
    return {r: 255, g: 255, b: 255};
  };
  const name = (node) => node.id ? '#' + node.id : node.tagName.toLowerCase() +
    (node.dataset.testid ? `[data-testid=${node.dataset.testid}]` : '');
  const problems = [];
  const fields = document.querySelectorAll('input:not([type=checkbox]):not([type=hidden]), select, textarea');
  for (const field of [...fields].filter((node) => node.checkVisibility())) {
    const style = getComputedStyle(field);
    if (style.borderTopStyle === 'none') continue;
    const against = Math.min(ratio(rgba(style.borderTopColor), background(field.parentElement)),
                             ratio(rgba(style.borderTopColor), background(field)));
    if (against < 3) problems.push(`${name(field)} border ${style.borderTopColor} is ${against.toFixed(2)}:1`);
  }
  const focused = document.activeElement;
  if (focused && focused !== document.body && getComputedStyle(focused).outlineStyle !== 'none') {
    const style = getComputedStyle(focused);
    const against = ratio(rgba(style.outlineColor), background(focused.parentElement));
    if (against < 3) problems.push(`${name(focused)} focus outline ${style.outlineColor} is ${against.toFixed(2)}:1`);
  }
  return problems;
}"""


class Audit:
    """Runs axe (and the non-text contrast check) on a page in several states and collects the blocking
    violations, so one failing test reports all of them at once: the state, the rule id, impact, help, how many
    nodes and the first target selectors. Minor/moderate ones are printed only."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, page: Page, state: str) -> None:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            if not AXE.is_file():
                pytest.fail(f"{AXE} missing: run `make install` (npm ci)", pytrace=False)
            page.add_script_tag(path=AXE)  # inline script: needs bypass_csp (see the module docstring)
        for violation in page.evaluate(RUN_AXE, WCAG_21_A_AA):
            line = (f"[{state}] {violation['id']} ({violation['impact']}): {violation['help']} — "
                    f"{violation['count']} node(s), e.g. {', '.join(violation['targets'])} <{violation['helpUrl']}>")
            if violation["impact"] in BLOCKING:
                self.problems.append(line)
            else:
                print("not blocking:", line)
        self.problems += [f"[{state}] non-text contrast (WCAG 1.4.11, serious): {problem}"
                          for problem in page.evaluate(NON_TEXT_CONTRAST)]

    def check_both_themes(self, page: Page, state: str) -> None:
        """`check` in the light and the dark theme: the system's colour scheme picks the palette
        (prefers-color-scheme), and the page follows a change at once, so one load serves both."""
        for theme in THEMES:
            page.emulate_media(color_scheme=theme)
            self.check(page, f"{state} ({theme})")

    def assert_clean(self) -> None:
        if self.problems:
            pytest.fail("serious/critical WCAG 2.1 A/AA violations:\n  " + "\n  ".join(self.problems),
                        pytrace=False)


@pytest.fixture
def audit() -> Audit:
    return Audit()


@pytest.fixture(scope="module")
def a11y_user(stack: dict[str, Any]) -> User:
    """One confirmed user for this module's signed-in checks (they only read albums and cancel what they open)."""
    return confirmed_user("a11y")


def test_the_audit_reports_what_it_should(page: Page, audit: Audit) -> None:
    # GIVEN a page with an unlabelled field, grey-on-white text and a field whose border barely shows (the old
    # #d3d8e0), so a broken harness (axe not loaded, no rule selected) cannot pass silently
    page.set_content('<html lang="en"><title>t</title><main><h1>Probe</h1><p style="color:#bbb">faint</p>'
                     '<input id="unlabelled"><input id="faint-edge" aria-label="q" style="border:1px solid #d3d8e0">'
                     "</main></html>")
    # WHEN it is audited
    audit.check(page, "probe")
    # THEN each problem is reported with its rule, impact and target
    report = "\n".join(audit.problems)
    assert "color-contrast (serious)" in report, report
    assert "label (critical)" in report and "#unlabelled" in report, report
    assert "#faint-edge border rgb(211, 216, 224) is 1.43:1" in report, report


def submit_empty(page: Page, form: str, first_error: str) -> None:
    page.click(f"{form} button[type=submit]")
    expect(page.locator(first_error)).not_to_be_empty()


def test_index_page(page: Page, site, audit: Audit) -> None:
    # GIVEN the first page a visitor sees
    page.goto(site.url("index.html"))
    expect(page.locator("#create-account")).to_be_visible()
    audit.check_both_themes(page, "index")
    audit.assert_clean()


def test_sign_in_page(page: Page, site, audit: Audit) -> None:
    # GIVEN the sign-in page
    page.goto(site.url("signin.html"))
    expect(page.locator("#signin-form")).to_be_visible()
    audit.check_both_themes(page, "sign-in")
    # WHEN the empty form is submitted, THEN the field errors it shows are accessible too
    submit_empty(page, "#signin-form", "#signin-email-error")
    audit.check_both_themes(page, "sign-in with field errors")
    audit.assert_clean()


def test_verify_page(page: Page, site, audit: Audit) -> None:
    # GIVEN the verify page (the local mailbox hint is shown on this stack)
    page.goto(site.url("verify.html"))
    expect(page.locator("#verify-form")).to_be_visible()
    audit.check_both_themes(page, "verify")
    # WHEN the empty form is submitted
    submit_empty(page, "#verify-form", "#verify-email-error")
    # THEN the page with its field errors has no serious violations
    audit.check_both_themes(page, "verify with field errors")
    audit.assert_clean()


def test_sign_up_page_and_its_verify_step(page: Page, site, audit: Audit) -> None:
    # GIVEN the sign-up page, first as loaded, then with field errors after an empty submit
    page.goto(site.url("signup.html"))
    expect(page.locator("#signup-form")).to_be_visible()
    audit.check_both_themes(page, "sign-up")
    submit_empty(page, "#signup-form", "#signup-username-error")
    audit.check_both_themes(page, "sign-up with field errors")
    # WHEN a new person signs up (an unconfirmed user in the local pool)
    tag = secrets.token_hex(4)
    user = User(email=f"a11y-{tag}@example.com", password=make_password(), username=f"a11y{tag}")
    page.fill("#signup-username", user.username)
    page.fill("#signup-email", user.email)
    page.fill("#signup-password", user.password)
    page.click("#signup-submit")
    # THEN the verify step that replaces the form has no serious violations either
    expect(page.locator("#verify-section")).to_be_visible()
    audit.check_both_themes(page, "sign-up verify step")
    audit.assert_clean()


def open_dashboard_states(page: Page, audit: Audit, label: str) -> None:
    """Audit the dashboard with rows, with the first row in edit mode, and with the delete dialog open; each state
    is closed again (Escape / Keep it), so no album changes."""
    audit.check_both_themes(page, f"{label}: rows loaded")
    first = page.locator(ROWS).first
    first.locator('[data-testid="edit-album"]').click()
    editing = page.locator('tr[data-editing="true"]')
    expect(editing).to_be_visible()
    audit.check_both_themes(page, f"{label}: edit row open")
    editing.locator('[data-testid="cancel-edit"]').click()
    expect(editing).to_have_count(0)
    page.locator(ROWS).first.locator('[data-testid="delete-album"]').click()
    expect(page.locator("#delete-dialog")).to_be_visible()
    audit.check_both_themes(page, f"{label}: delete dialog open")
    page.click("#delete-cancel")
    expect(page.locator("#delete-dialog")).to_be_hidden()


def test_signed_in_pages(page: Page, site, a11y_user: User, sign_in: Callable[[Page, User], None],
                         audit: Audit) -> None:
    # GIVEN a signed-in user on the dashboard with its first rows shown
    sign_in(page, a11y_user)
    expect(page.locator("#chart-section")).to_be_visible()
    # WHEN they open an edit row and the delete dialog, THEN no state has a serious violation
    open_dashboard_states(page, audit, "dashboard")
    # WHEN they submit the add-album form empty, THEN the form with its field errors has none either
    page.goto(site.url("add-album.html"))
    expect(page.locator("body")).to_have_attribute("data-auth", "ok")
    audit.check_both_themes(page, "add-album")
    submit_empty(page, "#album-form", "#album-rank-error")
    audit.check_both_themes(page, "add-album with field errors")
    audit.assert_clean()


def test_dashboard_on_a_phone(page: Page, a11y_user: User, sign_in: Callable[[Page, User], None],
                              audit: Audit) -> None:
    # GIVEN a 375 px wide viewport, where each album row is laid out as a card
    page.set_viewport_size(PHONE)
    # WHEN the user signs in and opens an edit row and the delete dialog
    sign_in(page, a11y_user)
    # THEN no state has a serious violation
    open_dashboard_states(page, audit, "dashboard 375px")
    audit.assert_clean()


def test_account_pages(page: Page, site, new_user, sign_in: Callable[[Page, User], None], audit: Audit) -> None:
    # GIVEN the forgotten-password page, then its second step (the same for any login)
    page.goto(site.url("forgot-password.html"))
    expect(page.locator("#forgot-form")).to_be_visible()
    audit.check_both_themes(page, "forgot password")
    page.fill("#forgot-login", "a11y-nobody@example.com")
    page.click("#forgot-submit")
    expect(page.locator("#reset-form")).to_be_visible()
    submit_empty(page, "#reset-form", "#reset-code-error")
    audit.check_both_themes(page, "forgot password: code and new password, with field errors")
    # WHEN a signed-in user opens their account page, and starts turning on two-step sign-in (secret and QR code)
    sign_in(page, new_user(label="a11yaccount"))
    page.click("#account-link")
    expect(page.locator("#two-step-on")).to_be_visible()
    audit.check_both_themes(page, "account")
    page.click("#two-step-on")
    expect(page.locator("#two-step-qr")).to_be_visible()
    audit.check_both_themes(page, "account: two-step setup")
    # THEN none of these states has a serious violation
    audit.assert_clean()
