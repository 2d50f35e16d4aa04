"""Test-only helpers on top of tests.clients (users and the API client) and bootstrap.access (outputs, clients)."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Collection

from tests.clients import Api

FREE_RANKS = range(600_000, 1_000_000)  # far above the seeded 1..500, so a test album never lands among them


def free_rank(api: Api, taken: Collection[int] = ()) -> int:
    """A random Rank no album holds now (nor one in `taken`): for a test about to create an album there."""
    for _ in range(20):
        rank = secrets.choice(FREE_RANKS)
        if rank not in taken and api.get(rank=rank).status_code == 404:
            return rank
    raise AssertionError("no free Rank found in 20 tries")


def throwaway_port() -> int:
    """A port for a stack of a test's own: THROWAWAY_PORT when set (one port for them all, so run such tests one at a
    time: each stops its stack before the next starts), else a free port from the operating system."""
    if os.environ.get("THROWAWAY_PORT"):
        return int(os.environ["THROWAWAY_PORT"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
