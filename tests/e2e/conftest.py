"""Browser-test fixtures, by job: browser.py (the system Chromium, the deployed site), policing.py (every test fails on
a console error or an API call without the user's ID token), users.py (fresh users, signing them in), album_fixtures.py
(albums set up behind the browser's back and deleted afterwards). The stack's outputs come from tests/conftest.py.
Screenshots of failing tests (and traces, with `--tracing retain-on-failure`) land in the git-ignored
`test-results/failures/`; the summary prints the wall time."""

from __future__ import annotations

import time
from typing import Any

import pytest

# The fixtures live in modules by job; importing them here is what makes pytest see them (and the hook).
from tests.e2e.album_fixtures import albums  # noqa: F401
from tests.e2e.browser import ACTION_TIMEOUT_MS, ARTIFACTS, browser_type_launch_args, site  # noqa: F401
from tests.e2e.policing import api_calls, console_errors, pytest_runtest_call, second_page  # noqa: F401
from tests.e2e.users import new_user, sign_in, sign_in_with_the_form  # noqa: F401

SUITE_STARTED = time.monotonic()  # this conftest is imported at collection, just before the first e2e test


def pytest_configure(config: pytest.Config) -> None:
    # Keep evidence of failures only, in the git-ignored folder at the project root (unless the command line says
    # otherwise: these are pytest-playwright's own --screenshot/--tracing/--output options). Traces are opt-in
    # (`--tracing retain-on-failure`): "retain on failure" records every test with screencast frames and throws the
    # passing ones away, which cost a quarter of the suite's CPU (16.2 vs 12.0 CPU-s for test_first_minutes.py).
    if config.option.screenshot == "off":
        config.option.screenshot = "only-on-failure"
    if config.option.output in ("test-results", "test-results/failures"):  # pyproject.toml's addopts
        config.option.output = str(ARTIFACTS / "failures")



# ---- timing -----------------------------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # The target is "under 2 minutes on 2 cores": print it, never assert it.
    e2e = [report for reports in terminalreporter.stats.values() for report in reports
           if getattr(report, "when", None) == "call" and "tests/e2e/" in getattr(report, "nodeid", "")]
    if e2e:
        elapsed = time.monotonic() - SUITE_STARTED
        terminalreporter.write_line(f"e2e: {len(e2e)} tests, wall time {elapsed:.1f}s (target: under 120s on 2 cores)")
