"""Fixtures every suite that talks to the running stack shares (the unit tests never ask for them)."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import botocore.session
import pytest

from bootstrap.access import StackNotRunning, outputs

# Every boto3 session loads botocore's service models (JSON) afresh: one loader per test process, shared by all
# sessions, reads each model once (the models are read-only data). The own-stack modules make ~16 sessions (clients
# for their throwaway stacks, in-process deploys): 0.7 CPU-s of model loading -> 0.1.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)


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
