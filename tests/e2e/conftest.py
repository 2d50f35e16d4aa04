"""Browser-test fixtures: the system Chromium, the running stack's outputs, console-error policing, fresh users.

Every test gets Playwright's `page`/`context` (pytest-playwright) launched with the Chromium below; any console error
or uncaught page exception in that context fails the test (see `console_errors`). Screenshots and traces of failing
tests land in the git-ignored `test-results/`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.support import StackNotRunning, User, confirmed_user, outputs, sign_up

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-results"
SYSTEM_CHROMIUM = Path("/usr/lib/chromium/chromium")  # Debian's `chromium` package; the real binary, not the wrapper
CHROMIUM_FLAGS = [
    "--no-sandbox",  # we run as root in containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ACTION_TIMEOUT_MS = 15_000  # a cold Lambda behind the API takes 1-1.5 s; leave room on a busy 2-core machine

expect.set_options(timeout=ACTION_TIMEOUT_MS)


def pytest_configure(config: pytest.Config) -> None:
    # Keep evidence of failures only, in the git-ignored folder at the project root (unless the command line says
    # otherwise: these are pytest-playwright's own --screenshot/--tracing/--output options).
    if config.option.screenshot == "off":
        config.option.screenshot = "only-on-failure"
    if config.option.tracing == "off":
        config.option.tracing = "retain-on-failure"
    if config.option.output == "test-results":
        config.option.output = str(ARTIFACTS)


def chromium_path() -> str | None:
    """CHROMIUM_PATH if set, else the system Chromium when present, else None (Playwright's own browser)."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not Path(configured).is_file():
            raise pytest.UsageError(f"CHROMIUM_PATH={configured} does not exist")
        return configured
    return str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.is_file() else None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    args = {**browser_type_launch_args, "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_FLAGS]}
    path = chromium_path()
    if path:
        args["executable_path"] = path
    return args


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    """The running stack's outputs ($STACK_DIR/outputs.json, STACK_DIR defaulting to <repo>/.stack)."""
    try:
        return outputs()
    except StackNotRunning as error:
        problem = str(error)  # already says "run `make up`"
    pytest.fail(problem, pytrace=False)


@dataclass(frozen=True)
class Site:
    """The deployed pages: site.url("dashboard.html")."""

    base: str

    def url(self, page: str = "index.html") -> str:
        return f"{self.base}/{page}"


@pytest.fixture(scope="session")
def site(stack: dict[str, Any]) -> Site:
    return Site(stack["WebsiteUrl"].rsplit("/", 1)[0])


# ---- console errors ---------------------------------------------------------------------------------------------


@dataclass
class ConsoleErrors:
    """Console errors and uncaught exceptions seen in the watched contexts during one test.

    A test that provokes an expected failure (wrong password -> Cognito 400, stale version -> API 409) declares it:
    `console_errors.allow(r"status of 409")`; Chromium logs every failed HTTP response as a console error.
    """

    seen: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", lambda web_error: self._record(f"uncaught {web_error.error}", ""))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location or {}
            self._record(message.text, location.get("url", ""))

    def _record(self, text: str, where: str) -> None:
        self.seen.append(f"{text} ({where})" if where else text)

    @property
    def unexpected(self) -> list[str]:
        return [entry for entry in self.seen if not any(pattern.search(entry) for pattern in self.allowed)]

    def assert_clean(self) -> None:
        if self.unexpected:
            pytest.fail("console errors:\n  " + "\n  ".join(self.unexpected), pytrace=False)


@pytest.fixture(autouse=True)
def console_errors(context: BrowserContext) -> ConsoleErrors:
    """Autouse: watches the test's `context` (call .watch() for any other context the test makes)."""
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    errors = ConsoleErrors()
    errors.watch(context)
    return errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Checked as part of the test call (not at teardown) so it counts as a failure and gets its screenshot.
    result = yield
    errors = getattr(item, "funcargs", {}).get("console_errors")
    if isinstance(errors, ConsoleErrors):
        errors.assert_clean()
    return result


# ---- users ------------------------------------------------------------------------------------------------------


@pytest.fixture
def new_user(stack: dict[str, Any]) -> Callable[..., User]:
    """Factory: a fresh user with a unique e-mail. confirmed=True signs up through cognito-idp at EndpointUrl and
    confirms with the code read from the local mailbox (MailboxUrl); confirmed=False leaves it UNCONFIRMED."""

    def make(*, confirmed: bool = True, label: str = "e2e") -> User:
        return confirmed_user(label) if confirmed else sign_up(label)

    return make


@pytest.fixture
def sign_in(site: Site) -> Callable[[Page, User], None]:
    """sign_in(page, user): through the sign-in page, ending on the dashboard with its first rows shown."""

    def run(page: Page, user: User) -> None:
        page.goto(site.url("signin.html"))
        page.fill("#signin-email", user.email)
        page.fill("#signin-password", user.password)
        page.click("#signin-submit")
        page.wait_for_url("**/dashboard.html*")
        expect(page.locator('tr[data-testid="album-row"]').first).to_be_visible()

    return run
