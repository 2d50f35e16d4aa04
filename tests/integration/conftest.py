from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients import Api, User, confirmed_user
from tests.support import free_rank as free_rank_for


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The modules that run stacks of their own (marker `own_stack`) spend most of their time waiting on them: first
    # in line, so that waiting overlaps the other tests' work rather than trailing after it (`make test` keeps this
    # order for pytest-xdist with --no-loadscope-reorder).
    items.sort(key=lambda item: item.get_closest_marker("own_stack") is None)


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
    rank = free_rank_for(api)
    yield rank
    api.delete(rank)


def album(rank: int, **overrides) -> dict:
    return {"Rank": rank, "Album": "Integration Test", "Artist": "The Fixtures", "Genre": "Rock", "Year": 1999,
            **overrides}
