"""The browser the e2e tests drive (Debian's Chromium, headless, no background network) and the deployed site."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-results"
# Debian's packages; the real binaries, not the wrappers. The headless shell is the same engine without the browser
# around it (what Playwright's own headless Chromium is, too): a page costs it ~2.5x less CPU (0.4 vs 1.1 CPU-s for a
# signed-in dashboard in a fresh context, measured on 2 cores), which is most of the e2e suite's time. Tests that need
# the browser a person runs (the back/forward cache) launch the full one: `person_chromium_path()`.
SYSTEM_HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")  # `chromium-headless-shell`
SYSTEM_CHROMIUM = Path("/usr/lib/chromium/chromium")  # `chromium`
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



def chromium_path() -> str | None:
    """CHROMIUM_PATH if set, else the system's headless shell, else the system Chromium, else None (Playwright's
    own browser)."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not Path(configured).is_file():
            raise pytest.UsageError(f"CHROMIUM_PATH={configured} does not exist")
        return configured
    return next((str(path) for path in (SYSTEM_HEADLESS_SHELL, SYSTEM_CHROMIUM) if path.is_file()), None)


def person_chromium_path() -> str | None:
    """The full Chromium a person runs (its back/forward cache included): the system's, else None (Playwright's)."""
    return str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.is_file() else None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    args = {**browser_type_launch_args, "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_FLAGS]}
    path = chromium_path()
    if path:
        args["executable_path"] = path
    return args


@dataclass(frozen=True)
class Site:
    """The deployed pages: site.url("dashboard.html")."""

    base: str

    def url(self, page: str = "index.html") -> str:
        return f"{self.base}/{page}"


@pytest.fixture(scope="session")
def site(stack: dict[str, Any]) -> Site:
    return Site(stack["WebsiteUrl"].rsplit("/", 1)[0])

