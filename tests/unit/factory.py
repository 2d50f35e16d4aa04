"""Test helpers: a fake Lambda context, an API Gateway event factory, the table from albums.table's definition."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from albums.table import TABLE_DEFINITION

TABLE_NAME = "Albums-unit"
CALLER = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "5a1bumsw3bc1i3nt0000000000"  # the app client the functions take ID tokens of (the event's `aud`)

BASE_EVENT = json.loads((Path(__file__).parent.parent / "events" / "apigw_rest_request.json").read_text())
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class FakeLambdaContext:
    aws_request_id: str = "req-0123456789abcdef"
    function_name: str = "albums-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:albums-test"
    log_group_name: str = "/aws/lambda/albums-test"
    log_stream_name: str = "2026/11/25/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def id_token_claims(sub: str = CALLER, groups: str | None = "[editors]", **overrides: str) -> dict[str, str]:
    """The authorizer's claims of this app client's ID token, as API Gateway passes them (strings); groups=None for
    a user in no group (a reader)."""
    claims = {"sub": sub, "token_use": "id", "aud": CLIENT_ID, "cognito:username": "listener", **overrides}
    if groups is not None:
        claims["cognito:groups"] = groups
    return claims


def make_event(
    method: str = "GET",
    query: dict[str, str] | None = None,
    body: Any = None,
    *,
    raw_body: str | None = None,
    claims: dict[str, str] | bool | None = True,
) -> dict[str, Any]:
    """An API Gateway REST proxy (1.0) event; `body` is JSON-encoded, `raw_body` is sent as is."""
    event = copy.deepcopy(BASE_EVENT)
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    event["body"] = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if claims is None:
        del event["requestContext"]["authorizer"]
    elif claims is not True:
        event["requestContext"]["authorizer"]["claims"] = claims
    return event


def call(handler: Handler, *args: Any, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    """Invoke a handler with make_event(*args, **kwargs) -> (status, parsed JSON body or None, headers)."""
    result = handler(make_event(*args, **kwargs), FakeLambdaContext())
    assert set(result) >= {"statusCode", "headers", "body"}
    body = json.loads(result["body"]) if result["body"] else None
    return result["statusCode"], body, result["headers"]


def album_body(rank: int = 42, **overrides: Any) -> dict[str, Any]:
    return {"Rank": rank, "Album": "Kind of Blue", "Artist": "Miles Davis", "Genre": "Jazz", "Year": 1959, **overrides}


def create_albums_table(name: str = TABLE_NAME) -> Any:
    """The table exactly as the bootstrap creates it (same definition object)."""
    boto3.client("dynamodb").create_table(TableName=name, **TABLE_DEFINITION)
    return boto3.resource("dynamodb").Table(name)


def stored_catalog(table: Any) -> dict[int, list[Any]]:
    """rank -> catalog entry as stored (Album normalised, Artist and Genre as written, Year), read straight from the
    catalog items (Rank < 0) of the table."""
    from albums.table import catalog_entries

    entries: dict[int, list[Any]] = {}
    for item in table.scan()["Items"]:
        if item["Rank"] < 0:
            entries.update({rank: [*value.split("\x1f")[:3], int(value.split("\x1f")[3])]
                            for rank, value in catalog_entries(item).items()})
    return entries


def stored_albums(table: Any) -> dict[int, dict[str, Any]]:
    return {int(item["Rank"]): item for item in table.scan()["Items"] if item["Rank"] > 0}
