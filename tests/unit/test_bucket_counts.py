"""The per-bucket album counts of the directory item: a listing skips buckets counted 0 without a query, so a count
must never be below the real number of albums in its bucket (too high only costs one empty query)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries import standard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albums import repository
from albums.handlers import create, delete, get, update
from albums.table import BUCKET_SIZE, occupied_buckets, rank_bucket
from bootstrap.resources import FUNCTIONS

from .factory import album_body, call

THROTTLED = (400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate exceeded"})
INVALID = (400, {"__type": "com.amazon.coral.validate#ValidationException", "message": "Item size has exceeded"})
INTERNAL = (500, {"__type": "com.amazon.coral.service#InternalServerError", "message": "Internal server error"})


class _RawBody:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_kwargs: object) -> Iterator[bytes]:
        yield self._payload


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def _repo() -> repository.AlbumRepository:
    return repository.default_repository()


Answer = tuple[tuple[int, dict], bool]


@contextmanager
def answering(client: Any, operation: str, *answers: Answer | Callable[[Any], Answer | None]):
    """The next attempts of `operation` on `client` get these answers, in order, then moto answers again.

    An answer is ((status, error body), applied) -- applied: moto still executes the request, as when DynamoDB
    applied a write whose response was lost -- or a callable(request) run first, returning such an answer or None
    (moto answers).
    """
    pending = list(answers)
    attempts: list[str] = []

    def answer(request, **_kwargs):
        attempts.append(operation)
        if not pending:
            return None
        current = pending.pop(0)
        if callable(current) and (current := current(request)) is None:
            return None
        (status, error), applied = current
        if not applied:
            request.url = "https://not-applied.invalid/"  # no moto backend matches: the request is not executed
        return AWSResponse(request.url, status, {"x-amzn-RequestId": "injected"}, _RawBody(json.dumps(error).encode()))

    event, unique_id = f"before-send.dynamodb.{operation}", f"answer-{operation}"
    client.meta.events.register_first(event, answer, unique_id=unique_id)
    try:
        yield attempts
    finally:
        client.meta.events.unregister(event, unique_id=unique_id)


def counts(table: Any) -> Counter[int]:
    directory = table.get_item(Key={"Rank": 0}).get("Item", {})
    return Counter({int(name[1:]): int(n) for name, n in directory.items() if name != "Rank"})


def real_counts(table: Any) -> Counter[int]:
    ranks = [int(item["Rank"]) for item in table.scan()["Items"] if item["Rank"] != 0]
    return Counter(rank_bucket(rank) for rank in ranks)


def listed() -> list[int]:
    ranks, token = [], None
    while True:
        status, body, _ = call(get.handler, "GET", {"limit": "100"} | ({"nextToken": token} if token else {}))
        assert status == 200, body
        ranks += [album["Rank"] for album in body["items"]]
        if (token := body["nextToken"]) is None:
            return ranks


def test_a_listing_costs_the_same_after_albums_came_and_went_in_50_buckets(table, monkeypatch):
    live = [7, 300, 5_000, 777_777]
    stale = [1_000 + 7_000 * i for i in range(50)]  # 50 distinct buckets, none shared with a live album
    assert len({rank_bucket(rank) for rank in stale} - {rank_bucket(rank) for rank in live}) == 50
    for rank in live + stale:
        assert call(create.handler, "POST", body=album_body(rank))[0] == 201
    for rank in stale:
        assert call(delete.handler, "DELETE", {"rank": str(rank)})[0] == 204
    reads: list[str] = []
    for operation in ("query", "get_item"):
        real = getattr(_repo()._table, operation)
        monkeypatch.setattr(_repo()._table, operation, _counting(real, operation, reads))

    assert listed() == live

    # bucket 0, then one directory read naming the 3 other live buckets: the 50 empty ones cost nothing
    assert Counter(reads) == {"query": 4, "get_item": 1}
    assert occupied_buckets(table.get_item(Key={"Rank": 0})["Item"]) == sorted({rank_bucket(r) for r in live})


def _counting(real, name, reads):
    def wrapper(**kwargs):
        reads.append(name)
        return real(**kwargs)

    return wrapper


def test_a_create_that_loses_the_race_for_its_rank_leaves_the_count_unchanged(table):
    client = _repo()._table.meta.client

    def winner_first(_request):  # the loser has counted its album; the winner creates and counts in between
        assert call(create.handler, "POST", body=album_body(260, Album="Winner"))[0] == 201

    with answering(client, "PutItem", winner_first):
        status, body, _ = call(create.handler, "POST", body=album_body(260, Album="Loser"))

    assert (status, body["error"]["code"]) == (409, "rank_taken")
    assert table.get_item(Key={"Rank": 260})["Item"]["Album"] == "Winner"
    assert counts(table) == {rank_bucket(260): 1}


def test_the_count_covers_an_album_before_it_is_written_and_until_it_is_deleted(table):
    seen: list[int] = []

    def look(_request):
        seen.append(counts(table)[rank_bucket(1_234)])

    client = _repo()._table.meta.client
    with answering(client, "PutItem", look):
        assert call(create.handler, "POST", body=album_body(1_234))[0] == 201
    with answering(client, "DeleteItem", look):
        assert call(delete.handler, "DELETE", {"rank": "1234"})[0] == 204

    assert seen == [1, 1] and counts(table)[rank_bucket(1_234)] == 0


def test_a_refused_create_takes_its_count_back_and_a_throttled_one_counts_high(table):
    client = _repo()._table.meta.client
    with answering(client, "PutItem", (INVALID, False)) as attempts:
        assert call(create.handler, "POST", body=album_body(3))[0] == 500
    assert attempts == ["PutItem"] and counts(table) == {0: 0}  # one refused attempt: nothing was written

    with answering(client, "PutItem", (THROTTLED, False)) as attempts:
        assert call(create.handler, "POST", body=album_body(3))[0] == 201
    assert attempts == ["PutItem", "PutItem"]
    assert counts(table) == {0: 2}  # botocore does not say the retried attempt was refused: counted high, safely


def test_a_put_applied_before_its_response_was_lost_is_counted_once(table):
    with answering(_repo()._table.meta.client, "PutItem", (INTERNAL, True)) as attempts:
        assert call(create.handler, "POST", body=album_body(4))[0] == 201
    assert attempts == ["PutItem", "PutItem"]  # the retry found our own album
    assert counts(table) == {0: 1}


def test_a_put_rewritten_by_its_retry_after_someone_deleted_it_stays_listed(table):
    """The first attempt writes the album and its answer is lost; another client deletes the album (uncounting it)
    before botocore retries, and the retry writes it again: the count must still cover it."""
    other = boto3.client("dynamodb")

    def applied_then_deleted(request) -> Answer:
        other.put_item(**json.loads(request.body))  # the attempt is applied...
        assert call(delete.handler, "DELETE", {"rank": "600"})[0] == 204  # ...someone deletes the album...
        return INTERNAL, False  # ...and the answer to the attempt is lost

    with answering(_repo()._table.meta.client, "PutItem", applied_then_deleted) as attempts:
        assert call(create.handler, "POST", body=album_body(600))[0] == 201

    assert attempts == ["PutItem", "PutItem"]  # the retry wrote the album a second time
    assert listed() == [600]
    assert counts(table) == {rank_bucket(600): 1}


def test_lowering_a_count_is_never_retried(table):
    assert call(create.handler, "POST", body=album_body(70))[0] == 201
    once = _repo()._table.meta.client  # the uncount is the delete's only UpdateItem

    with answering(once, "UpdateItem", (INTERNAL, True)) as attempts:  # applied, answer lost: must not repeat
        assert call(delete.handler, "DELETE", {"rank": "70"})[0] == 204
    assert attempts == ["UpdateItem"] and counts(table) == {0: 0}

    assert call(create.handler, "POST", body=album_body(70))[0] == 201
    with answering(once, "UpdateItem", (THROTTLED, False)) as attempts:  # not applied: the count stays high
        assert call(delete.handler, "DELETE", {"rank": "70"})[0] == 204  # the album is gone all the same
    assert attempts == ["UpdateItem"] and counts(table) == {0: 1}
    assert listed() == []


def test_each_function_role_allows_every_table_operation_the_function_performs(table):
    performed: list[str] = []

    def record(model, **_kwargs):
        performed.append(f"dynamodb:{model.name}")

    client = _repo()._table.meta.client
    client.meta.events.register("before-call.dynamodb", record, unique_id="record-operations")
    requests = {
        "POST": [("POST", None, album_body(9)), ("POST", None, album_body(9))],  # 201, then 409 (uncounts)
        "PUT": [("PUT", {"rank": "9"}, {"Year": 1960, "version": 1}), ("PUT", {"rank": "9"}, {"version": 1})],
        "GET": [("GET", {"rank": "9"}, None), ("GET", {"limit": "1"}, None), ("GET", {"limit": "5"}, None)],
        "DELETE": [("DELETE", {"rank": "9", "version": "1"}, None), ("DELETE", {"rank": "9"}, None)],
    }
    handlers = {"POST": create.handler, "PUT": update.handler, "GET": get.handler, "DELETE": delete.handler}
    try:
        for function in sorted(FUNCTIONS, key=lambda f: list(requests).index(f.method)):
            performed.clear()
            for method, query, body in requests[function.method]:
                assert call(handlers[method], method, query, body)[0] < 500
            assert performed and set(performed) <= set(function.table_actions), function.name
    finally:
        client.meta.events.unregister("before-call.dynamodb", unique_id="record-operations")


# --- model-based: any sequence of creates, deletes and failing writes ---------------------------------------------

RANKS = [1, 2, BUCKET_SIZE - 1, BUCKET_SIZE, BUCKET_SIZE + 1, 5 * BUCKET_SIZE, 999_999]
steps = st.lists(
    st.tuples(
        st.sampled_from(["create", "delete", "refused create", "throttled create", "lost create", "lost uncount",
                         "dropped uncount"]),
        st.sampled_from(RANKS),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_counts_never_fall_below_the_albums_in_their_buckets(table, steps):
    _empty(table)
    client = once = _repo()._table.meta.client  # deletes issue one UpdateItem: the uncount
    faults = {
        "create": (client, "PutItem", ()),
        "refused create": (client, "PutItem", ((INVALID, False),)),
        "throttled create": (client, "PutItem", ((THROTTLED, False),)),
        "lost create": (client, "PutItem", ((INTERNAL, True),)),
        "delete": (once, "UpdateItem", ()),
        "lost uncount": (once, "UpdateItem", ((INTERNAL, True),)),
        "dropped uncount": (once, "UpdateItem", ((INTERNAL, False),)),
    }
    albums: set[int] = set()
    for step, rank in steps:
        target, operation, answers = faults[step]
        with answering(target, operation, *answers):
            if "create" in step:
                status = call(create.handler, "POST", body=album_body(rank))[0]
                refused = step == "refused create"
                assert status == (500 if refused else 409 if rank in albums else 201)
                albums |= set() if refused else {rank}
            else:
                status = call(delete.handler, "DELETE", {"rank": str(rank)})[0]
                assert status == (204 if rank in albums else 404)
                albums.discard(rank)

        real, counted = real_counts(table), counts(table)
        assert all(counted[bucket] >= n for bucket, n in real.items()), (counted, real)
        assert min(counted.values(), default=0) >= 0
        assert sorted(albums) == [int(item["Rank"]) for item in table.scan()["Items"] if item["Rank"] != 0]
    assert listed() == sorted(albums)


def _empty(table: Any) -> None:
    with table.batch_writer() as batch:
        for key in table.scan(ProjectionExpression="#r", ExpressionAttributeNames={"#r": "Rank"})["Items"]:
            batch.delete_item(Key=key)
