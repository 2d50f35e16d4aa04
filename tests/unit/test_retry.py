"""Throttling and transient DynamoDB errors are retried by botocore's retry config; a transaction that loses a race
is retried by the repository and then answered 503 with Retry-After; a retried write is applied once."""

from __future__ import annotations

import json

import pytest
from botocore.retries import standard

from albums import repository
from albums.handlers import create, delete, get, update

from .factory import album_body, call, stored_albums, stored_catalog
from .faults import INTERNAL, INVALID, THROTTLED, answering, cancelled


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(repository.time, "sleep", lambda seconds: None)


def _client():
    return repository.default_repository()._client


def test_the_table_client_uses_standard_retries_with_bounded_attempts(table):
    config = _client().meta.config
    assert config.retries["mode"] in ("standard", "adaptive")
    assert 2 <= config.retries["total_max_attempts"] <= 5


def test_a_throttled_write_is_retried_with_the_same_client_request_token(table):
    with answering(_client(), "TransactWriteItems", (THROTTLED, False)) as attempts:
        status, _, _ = call(create.handler, "POST", body=album_body(64))

    assert status == 201
    tokens = [json.loads(request.body)["ClientRequestToken"] for request in attempts]
    # DynamoDB applies a transaction once per token: a retry of an applied attempt changes nothing
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    assert sorted(stored_albums(table)) == sorted(stored_catalog(table)) == [64]


def test_a_create_applied_before_its_response_was_lost_is_still_a_201_on_retry(table):
    # moto ignores ClientRequestToken, so the retry really meets its own album: it must not call it a taken rank
    with answering(_client(), "TransactWriteItems", (INTERNAL, True)) as attempts:
        status, body, _ = call(create.handler, "POST", body=album_body(65, Album="Mine"))

    assert (status, body["Album"], body["version"], len(attempts)) == (201, "Mine", 1, 2)
    # ...but a rank taken by an earlier, different request is still a conflict
    assert call(create.handler, "POST", body=album_body(65, Album="Mine"))[0] == 409


def test_an_update_applied_before_its_response_was_lost_is_not_a_conflict_on_retry(table):
    call(create.handler, "POST", body=album_body(66))
    with answering(_client(), "TransactWriteItems", (INTERNAL, True)) as attempts:
        status, body, _ = call(update.handler, "PUT", {"rank": "66"}, {"Genre": "Bebop", "version": 1})

    assert (status, body["Genre"], body["version"], len(attempts)) == (200, "Bebop", 2, 2)
    assert call(update.handler, "PUT", {"rank": "66"}, {"Genre": "Bebop", "version": 1})[0] == 409
    assert stored_catalog(table)[66][2] == "Bebop"  # Genre as written (its key: normalised on reading)


def test_a_refused_write_is_a_500_and_writes_nothing(table):
    with answering(_client(), "TransactWriteItems", (INVALID, False)) as attempts:
        status, body, headers = call(create.handler, "POST", body=album_body(3))

    assert (status, body["error"]["code"], len(attempts)) == (500, "internal_error", 1)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert stored_albums(table) == {} and stored_catalog(table) == {}


def test_a_transaction_that_loses_races_is_retried_then_answered_503_with_retry_after(table):
    conflict = (cancelled("None", "None", "TransactionConflict"), False)
    with answering(_client(), "TransactWriteItems", conflict, conflict) as attempts:
        assert call(create.handler, "POST", body=album_body(7))[0] == 201
    assert len(attempts) == 3

    many = [conflict] * repository.CONFLICT_ATTEMPTS
    with answering(_client(), "TransactWriteItems", *many) as attempts:
        status, body, headers = call(delete.handler, "DELETE", {"rank": "7"})

    assert (status, body["error"]["code"], headers["Retry-After"]) == (503, "busy", "1")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert len(attempts) == repository.CONFLICT_ATTEMPTS
    assert sorted(stored_albums(table)) == sorted(stored_catalog(table)) == [7]  # nothing half-done


def test_a_throttled_listing_read_is_retried_and_succeeds(table):
    call(create.handler, "POST", body=album_body(3))
    with answering(_client(), "BatchGetItem", (THROTTLED, False), (THROTTLED, False)) as attempts:
        status, body, _ = call(get.handler, "GET", {"limit": "10"})

    assert (status, [a["Rank"] for a in body["items"]]) == (200, [3])
    assert len(attempts) >= 3


def test_unprocessed_keys_of_a_batch_read_are_asked_for_again(table, monkeypatch):
    for rank in (1, 2, 3):
        call(create.handler, "POST", body=album_body(rank))
    real = _client().batch_get_item
    calls: list[int] = []

    def partial(**kwargs):
        response = real(**kwargs)
        calls.append(len(next(iter(kwargs["RequestItems"].values()))["Keys"]))
        name, items = next(iter(response["Responses"].items()))
        if len(calls) == 3 and len(items) > 1:  # the page's read: answer one album, defer the rest
            keys = [{"Rank": item["Rank"]} for item in items[1:]]
            response["Responses"][name] = items[:1]
            response["UnprocessedKeys"] = {name: {"Keys": keys}}
        return response

    monkeypatch.setattr(_client(), "batch_get_item", partial)
    repository.default_repository().catalog.clear(None)

    status, body, _ = call(get.handler, "GET", {"limit": "10"})

    assert (status, [a["Rank"] for a in body["items"]]) == (200, [1, 2, 3])
    assert calls == [1, 1, 3, 2]  # directory, catalog bucket, the page, then the two deferred albums


def test_when_retries_are_exhausted_the_answer_is_a_500_with_cors(table):
    with answering(_client(), "GetItem", *[(THROTTLED, False)] * 100) as attempts:
        status, body, headers = call(get.handler, "GET", {"rank": "1"})

    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert len(attempts) == repository.RETRY_CONFIG.retries["total_max_attempts"] == 4
