"""Fixtures every suite that talks to the running stack shares (the unit tests never ask for them)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bootstrap.access import StackNotRunning, outputs


def pytest_collection_finish(session: pytest.Session) -> None:
    # pytest-xdist keeps one test per id: two tests sharing an id would silently run once (schemathesis' items did,
    # under pytest 9, so `make test` fuzzed one operation of five). Refuse such a collection outright.
    shared = [nodeid for nodeid, count in Counter(item.nodeid for item in session.items).items() if count > 1]
    if shared:
        raise pytest.UsageError("several tests share one id (pytest-xdist would run only one of each): "
                                + ", ".join(shared))


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    """The running stack's outputs ($STACK_DIR/outputs.json, STACK_DIR defaulting to <repo>/.stack); a stack that is
    not there fails the test with one line saying what to run."""
    try:
        return outputs()
    except StackNotRunning as error:
        problem = str(error)  # already says "run `make up`"
    pytest.fail(problem, pytrace=False)
