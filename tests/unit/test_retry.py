"""Throttling and transient DynamoDB errors are retried by botocore's retry config, not by our code."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries import standard
from botocore.stub import Stubber

from albums import repository
from albums.handlers import create, get, update

from .factory import album_body, call

THROTTLED = {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded.",
}


class _RawBody:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_kwargs: object) -> Iterator[bytes]:
        yield self._payload


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


INTERNAL = {"__type": "com.amazon.coral.service#InternalServerError", "message": "Internal server error"}


@pytest.fixture
def fail_attempts(table, no_backoff):
    """fail_attempts(operation, times, error=THROTTLED, applied=False): the next `times` HTTP attempts of the
    operation are answered with `error`; with applied=True moto still executes them (a response lost after
    DynamoDB applied the write), otherwise they never reach moto (throttled requests are not applied).

    Hooked on `before-send`, i.e. below botocore's retry handler. (botocore.stub.Stubber answers at
    `before-call`, above it, so an error queued in a Stubber is never retried: see the last test.)
    """
    client = repository.default_repository()._table.meta.client
    registered: list[tuple[str, str]] = []
    attempts: list[str] = []

    def install(operation: str, times: int, error: dict = THROTTLED, *, applied: bool = False) -> list[str]:
        status = 400 if error is THROTTLED else 500

        def answer(request, **_kwargs):
            attempts.append(operation)
            if attempts.count(operation) > times:
                return None  # moto answers
            if not applied:
                request.url = "https://throttled.invalid/"  # no moto backend matches: the request is not executed
            body = _RawBody(json.dumps(error).encode())
            return AWSResponse(request.url, status, {"x-amzn-RequestId": "injected"}, body)

        event, unique_id = f"before-send.dynamodb.{operation}", f"fail-{operation}"
        client.meta.events.register_first(event, answer, unique_id=unique_id)
        registered.append((event, unique_id))
        return attempts

    yield install
    for event, unique_id in registered:
        client.meta.events.unregister(event, unique_id=unique_id)


def test_the_table_client_uses_standard_retries_with_bounded_attempts(table):
    config = repository.default_repository()._table.meta.client.meta.config
    assert config.retries["mode"] in ("standard", "adaptive")
    assert 2 <= config.retries["total_max_attempts"] <= 5


def test_a_throttled_put_is_retried_and_succeeds(fail_attempts, table):
    attempts = fail_attempts("PutItem", times=1)

    status, _, _ = call(create.handler, "POST", body=album_body(64))

    assert status == 201
    assert attempts == ["PutItem", "PutItem"]
    assert table.get_item(Key={"Rank": 64})["Item"]["version"] == 1


def test_a_put_applied_before_its_response_was_lost_is_still_a_201_on_retry(fail_attempts, table):
    attempts = fail_attempts("PutItem", times=1, error=INTERNAL, applied=True)

    status, body, _ = call(create.handler, "POST", body=album_body(65, Album="Mine"))

    assert (status, body["Album"], body["version"]) == (201, "Mine", 1)
    assert attempts == ["PutItem", "PutItem"]
    # ...but a rank taken by an earlier, different request is still a conflict
    assert call(create.handler, "POST", body=album_body(65, Album="Mine"))[0] == 409


def test_an_update_applied_before_its_response_was_lost_is_not_a_conflict_on_retry(fail_attempts, table):
    call(create.handler, "POST", body=album_body(66))
    attempts = fail_attempts("UpdateItem", times=1, error=INTERNAL, applied=True)

    status, body, _ = call(update.handler, "PUT", {"rank": "66"}, {"Genre": "Bebop", "version": 1})

    assert (status, body["Genre"], body["version"]) == (200, "Bebop", 2)
    assert attempts == ["UpdateItem", "UpdateItem"]
    assert call(update.handler, "PUT", {"rank": "66"}, {"Genre": "Bebop", "version": 1})[0] == 409


def test_a_throttled_query_is_retried_and_succeeds(fail_attempts, table):
    call(create.handler, "POST", body=album_body(3))
    attempts = fail_attempts("Query", times=2)

    status, body, _ = call(get.handler, "GET", {"limit": "10"})

    assert (status, [a["Rank"] for a in body["items"]]) == (200, [3])
    assert attempts.count("Query") >= 3


def test_when_retries_are_exhausted_the_answer_is_a_500_with_cors(fail_attempts, table):
    attempts = fail_attempts("GetItem", times=100)

    status, body, headers = call(get.handler, "GET", {"rank": "1"})

    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert len(attempts) == repository.RETRY_CONFIG.retries["total_max_attempts"] == 4


def test_stubbed_service_errors_surface_as_500_and_conditional_failures_as_409(table):
    client = repository.default_repository()._table.meta.client
    with Stubber(client) as stubber:
        stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", http_status_code=400)
        status, body, _ = call(get.handler, "GET", {"rank": "1"})
        assert (status, body["error"]["code"]) == (500, "internal_error")

        stubber.add_response("update_item", {})  # the directory ADD
        stubber.add_client_error("put_item", "ConditionalCheckFailedException", http_status_code=400)
        status, body, _ = call(create.handler, "POST", body=album_body(1))
        assert (status, body["error"]["code"]) == (409, "rank_taken")
        stubber.assert_no_pending_responses()
