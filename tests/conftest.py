"""Fixtures every suite that talks to the running stack shares (the unit tests never ask for them)."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.access import StackNotRunning, outputs


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    """The running stack's outputs ($STACK_DIR/outputs.json, STACK_DIR defaulting to <repo>/.stack); a stack that is
    not there fails the test with one line saying what to run."""
    try:
        return outputs()
    except StackNotRunning as error:
        problem = str(error)  # already says "run `make up`"
    pytest.fail(problem, pytrace=False)
