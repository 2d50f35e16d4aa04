"""Albums a test sets up or checks behind the browser's back, deleted afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bootstrap.access import client
from tests.clients import Api, confirmed_user
from tests.support import free_rank

# ---- albums the tests create ---------------------------------------------------------------------------------------

class TestAlbums:
    """Albums a test sets up or checks behind the browser's back: through the API as a helper user of its own
    (made on first use), and in DynamoDB. Every Rank handed out or created is deleted at teardown."""

    __test__ = False  # not a test class

    def __init__(self, stack: dict[str, Any]) -> None:
        self.stack = stack
        self.ranks: list[int] = []
        self._api: Api | None = None

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(confirmed_user("e2e-helper"))
        return self._api

    def free_rank(self) -> int:
        """A random Rank no album holds now; remembered for clean-up, since the test is about to use it."""
        rank = free_rank(self.api, taken=self.ranks)
        self.ranks.append(rank)
        return rank

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"Rank": self.free_rank(), "Album": "E2E Album", "Artist": "E2E Artist", "Genre": "Rock",
                "Year": 1999, **fields}
        response = self.api.post(body)
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, rank: int) -> dict[str, Any] | None:
        """The album as the API returns it now; None on 404."""
        response = self.api.get(rank=rank)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def stored(self, rank: int) -> dict[str, Any] | None:
        """The raw DynamoDB item (bypassing the API), or None."""
        key = {"Rank": {"N": str(rank)}}
        return client("dynamodb").get_item(TableName=self.stack["TableName"], Key=key).get("Item")

    def clean_up(self) -> None:
        if self._api is None:
            return
        for rank in self.ranks:
            self.api.delete(rank)  # 204, or 404 when the test already deleted it


@pytest.fixture
def albums(stack: dict[str, Any]) -> Iterator[TestAlbums]:
    helper = TestAlbums(stack)
    try:
        yield helper
    finally:
        helper.clean_up()

