"""Unit-test fixtures. The environment is set before any albums entry point is imported: entry points read their
settings at import time (a cold start), exactly as in Lambda."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from .factory import CLIENT_ID, TABLE_NAME, FakeLambdaContext, create_albums_table

os.environ.update(
    ALBUMS_TABLE=TABLE_NAME,
    USER_POOL_CLIENT_ID=CLIENT_ID,
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
)
for leaked in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "CORS_ALLOW_ORIGIN", "LOG_LEVEL"):
    os.environ.pop(leaked, None)

from albums import repository, settings  # noqa: E402


def reset_caches() -> None:
    settings.get_settings.cache_clear()
    repository.albums_table.cache_clear()
    repository.default_repository.cache_clear()


@pytest.fixture(scope="session")
def _albums_table() -> Iterator[Any]:
    """One moto table for the session (creating one per test costs ~0.2 s), built from the bootstrap's definition."""
    reset_caches()
    with mock_aws():
        yield create_albums_table()
    reset_caches()


@pytest.fixture
def table(_albums_table: Any) -> Any:
    """The Albums table, emptied (directory item included) before each test."""
    scan: dict[str, Any] = {"ProjectionExpression": "#r", "ExpressionAttributeNames": {"#r": "Rank"}}
    with _albums_table.batch_writer() as batch:
        while True:
            page = _albums_table.scan(**scan)
            for key in page["Items"]:
                batch.delete_item(Key=key)
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return _albums_table


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext()
