"""Browser-test fixtures: the system Chromium, the running stack's outputs, console-error policing, fresh users.

Every test gets Playwright's `page`/`context` (pytest-playwright) launched with the Chromium below; any console error
or uncaught page exception in that context fails the test (see `console_errors`), and so does any request to ApiUrl
without a raw Cognito ID token in Authorization (see `api_calls`; CORS preflights excepted). `second_page` is another
policed window; `albums` sets up / checks albums through the API and DynamoDB and deletes them afterwards.
Screenshots and traces of failing tests land in the git-ignored `test-results/failures/`; the summary prints the wall
time.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, expect

from tests.support import Api, StackNotRunning, User, client, confirmed_user, outputs, sign_up

SUITE_STARTED = time.monotonic()  # this conftest is imported at collection, just before the first e2e test

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
    if config.option.output in ("test-results", "test-results/failures"):  # pyproject.toml's addopts
        config.option.output = str(ARTIFACTS / "failures")


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

    def allow_failed_response(self, status: int, url_prefix: str) -> None:
        """Allow exactly Chromium's "Failed to load resource ... status of <status>" line for requests to
        url_prefix (the handled 4xx of a failure-path test), nothing broader."""
        line = rf"^Failed to load resource: the server responded with a status of {status}\b"
        self.allow(rf"{line}.* \({re.escape(url_prefix)}")

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


# ---- API calls carry a token -------------------------------------------------------------------------------------


JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass
class ApiCall:
    method: str
    url: str
    authorization: str


def is_id_token(value: str) -> bool:
    """A raw (no "Bearer") Cognito ID token: a three-part JWT whose payload says token_use=id."""
    if not JWT.fullmatch(value):
        return False
    parts = value.split(".")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return False
    return isinstance(claims, dict) and claims.get("token_use") == "id"


@dataclass
class ApiCalls:
    """Every request the watched contexts sent to ApiUrl during one test. Autouse: after each test, every one of
    them except CORS preflights (OPTIONS) must carry a raw Cognito ID token in Authorization."""

    api_url: str
    calls: list[ApiCall] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.on("request", self._on_request)

    def _on_request(self, request: Request) -> None:
        if request.url.startswith(self.api_url):
            # request.headers is what the page set (Authorization included); read now, while the request is live.
            self.calls.append(ApiCall(request.method, request.url, request.headers.get("authorization", "")))

    def methods(self) -> set[str]:
        return {call.method for call in self.calls}

    @property
    def without_token(self) -> list[str]:
        return [f"{call.method} {call.url} (Authorization: {call.authorization[:20] or 'none'!r})"
                for call in self.calls if call.method != "OPTIONS" and not is_id_token(call.authorization)]


@pytest.fixture(autouse=True)
def api_calls(context: BrowserContext, stack: dict[str, Any]) -> ApiCalls:
    calls = ApiCalls(stack["ApiUrl"])
    calls.watch(context)
    return calls


@pytest.fixture
def second_page(new_context: Callable[..., BrowserContext], console_errors: ConsoleErrors,
                api_calls: ApiCalls) -> Page:
    """A page in a second browser context (another browser window with its own storage), policed like `page`."""
    context = new_context()
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    console_errors.watch(context)
    api_calls.watch(context)
    return context.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Checked as part of the test call (not at teardown) so it counts as a failure and gets its screenshot.
    result = yield
    funcargs = getattr(item, "funcargs", {})
    problems = []
    errors = funcargs.get("console_errors")
    if isinstance(errors, ConsoleErrors) and errors.unexpected:
        problems.append("console errors:\n  " + "\n  ".join(errors.unexpected))
    calls = funcargs.get("api_calls")
    if isinstance(calls, ApiCalls) and calls.without_token:
        problems.append("API calls without an ID token:\n  " + "\n  ".join(calls.without_token))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    return result


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


# ---- albums the tests create ---------------------------------------------------------------------------------------

FREE_RANKS = range(600_000, 1_000_000)  # far above the seeded 1..500, so a test album never lands among them


class TestAlbums:
    """Albums a test sets up or checks behind the browser's back: through the API as a helper user of its own
    (made on first use), and in DynamoDB. Every Rank handed out or created is deleted at teardown."""

    __test__ = False  # not a test class

    def __init__(self, stack: dict[str, Any]) -> None:
        self.stack = stack
        self.ranks: list[int] = []
        self._api: Api | None = None

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(confirmed_user("e2e-helper"))
        return self._api

    def free_rank(self) -> int:
        """A random Rank no album holds now; remembered for clean-up, since the test is about to use it."""
        for _ in range(20):
            rank = random.choice(FREE_RANKS)
            if rank not in self.ranks and self.api.get(rank=rank).status_code == 404:
                self.ranks.append(rank)
                return rank
        raise AssertionError("no free Rank found in 20 tries")

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"Rank": self.free_rank(), "Album": "E2E Album", "Artist": "E2E Artist", "Genre": "Rock",
                "Year": 1999, **fields}
        response = self.api.post(body)
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, rank: int) -> dict[str, Any] | None:
        """The album as the API returns it now; None on 404."""
        response = self.api.get(rank=rank)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def stored(self, rank: int) -> dict[str, Any] | None:
        """The raw DynamoDB item (bypassing the API), or None."""
        key = {"Rank": {"N": str(rank)}}
        return client("dynamodb").get_item(TableName=self.stack["TableName"], Key=key).get("Item")

    def clean_up(self) -> None:
        if self._api is None:
            return
        for rank in self.ranks:
            self.api.delete(rank)  # 204, or 404 when the test already deleted it


@pytest.fixture
def albums(stack: dict[str, Any]) -> Iterator[TestAlbums]:
    helper = TestAlbums(stack)
    try:
        yield helper
    finally:
        helper.clean_up()


# ---- timing -----------------------------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # The target is "under 2 minutes on 2 cores": print it, never assert it.
    e2e = [report for reports in terminalreporter.stats.values() for report in reports
           if getattr(report, "when", None) == "call" and "tests/e2e/" in getattr(report, "nodeid", "")]
    if e2e:
        elapsed = time.monotonic() - SUITE_STARTED
        terminalreporter.write_line(f"e2e: {len(e2e)} tests, wall time {elapsed:.1f}s (target: under 120s on 2 cores)")
