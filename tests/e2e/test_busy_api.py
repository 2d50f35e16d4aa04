"""A busy local stack answers 503 + Retry-After (or 429) when a call waited too long for its turn; the page sends
the call again after that pause instead of showing an error. The first page request is answered 503 here by the
browser's network layer (a real one comes from the stack only when its gate is full: see
tests/integration/test_own_stack.py), every later request goes to the real API."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.e2e

BUSY = {"error": {"code": "busy", "message": "The local stack is busy; please retry in a moment."}}


def test_the_dashboard_retries_a_busy_answer_and_shows_the_albums(page: Page, stack, new_user, sign_in,
                                                                  console_errors) -> None:
    console_errors.allow_failed_response(503, stack["ApiUrl"])
    calls: list[str] = []

    def busy_once(route: Route) -> None:
        if route.request.url.split("?")[0].endswith("/album/stats"):  # the chart's own call: not the one meant here
            route.continue_()
            return
        calls.append(route.request.method)
        if len(calls) == 1:
            route.fulfill(status=503, body=json.dumps(BUSY), headers={
                "Content-Type": "application/json", "Retry-After": "1", "Access-Control-Allow-Origin": "*"})
        else:
            route.continue_()

    page.route(f"{stack['ApiUrl']}/album**", busy_once)
    # WHEN a person signs in and the first page request meets a busy stack
    sign_in(page, new_user())
    # THEN the same request was sent again and the albums are shown, with no error message
    assert calls[:2] == ["GET", "GET"]
    expect(page.locator('tr[data-testid="album-row"]').first).to_be_visible()
    expect(page.locator("#dashboard-message")).not_to_have_attribute("data-kind", "error")
