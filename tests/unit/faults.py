"""Injected DynamoDB answers below botocore's retry handler, for the unit tests of retries and lost responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse

THROTTLED = (400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate exceeded"})
INVALID = (400, {"__type": "com.amazon.coral.validate#ValidationException", "message": "Item size has exceeded"})
INTERNAL = (500, {"__type": "com.amazon.coral.service#InternalServerError", "message": "Internal server error"})


def cancelled(*codes: str) -> tuple[int, dict[str, Any]]:
    """A TransactionCanceledException with one cancellation reason code per item ("None": that item was fine)."""
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": f"Transaction cancelled, please refer cancellation reasons [{', '.join(codes)}]",
        "CancellationReasons": [{"Code": code} for code in codes],
    }
    return 400, body


class _RawBody:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_kwargs: object) -> Iterator[bytes]:
        yield self._payload


Answer = tuple[tuple[int, dict[str, Any]], bool]


@contextmanager
def answering(client: Any, operation: str, *answers: Answer | Callable[[Any], Answer | None]) -> Iterator[list[Any]]:
    """The next attempts of `operation` on `client` get these answers, in order, then moto answers again.

    An answer is ((status, error body), applied) -- applied: moto still executes the request, as when DynamoDB
    applied a write whose response was lost -- or a callable(request) run first, returning such an answer or None
    (moto answers). Yields the list of attempted requests (botocore AWSPreparedRequest objects).
    """
    pending = list(answers)
    attempts: list[Any] = []

    def answer(request: Any, **_kwargs: Any) -> AWSResponse | None:
        attempts.append(request)
        if not pending:
            return None
        current = pending.pop(0)
        if callable(current) and (current := current(request)) is None:
            return None
        (status, error), applied = current
        if not applied:
            request.url = "https://not-applied.invalid/"  # no moto backend matches: the request is not executed
        # botocore calls every before-send handler (moto's too) and uses the first answer: ours.
        return AWSResponse(request.url, status, {"x-amzn-RequestId": "injected"}, _RawBody(json.dumps(error).encode()))

    event, unique_id = f"before-send.dynamodb.{operation}", f"answer-{operation}"
    client.meta.events.register_first(event, answer, unique_id=unique_id)
    try:
        yield attempts
    finally:
        client.meta.events.unregister(event, unique_id=unique_id)
