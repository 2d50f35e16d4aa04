from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.support import Api, StackNotRunning, User, confirmed_user, outputs


@pytest.fixture(scope="session")
def stack() -> dict:
    try:
        return outputs()
    except StackNotRunning as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def user(stack: dict) -> User:
    return confirmed_user("api")


@pytest.fixture
def api(user: User) -> Api:
    return Api(user)


@pytest.fixture
def anonymous(stack: dict) -> Api:
    return Api(None)


@pytest.fixture
def free_rank(api: Api) -> Iterator[int]:
    """A rank no seed album or other test uses; whatever the test leaves there is removed afterwards."""
    rank = 600_000 + secrets.randbelow(399_000)
    assert api.get(rank=rank).status_code == 404
    yield rank
    api.delete(rank)


def album(rank: int, **overrides) -> dict:
    return {"Rank": rank, "Album": "Integration Test", "Artist": "The Fixtures", "Genre": "Rock", "Year": 1999,
            **overrides}
