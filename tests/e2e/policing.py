"""Every test is policed: a console error or an uncaught page exception fails it (`console_errors`), and so does any
request to ApiUrl without a raw Cognito ID token in Authorization (`api_calls`; CORS preflights excepted).
`second_page` is another policed window."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request

from tests.e2e.browser import ACTION_TIMEOUT_MS

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

