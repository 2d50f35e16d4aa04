"""The logic of our MiniStack server (bootstrap/ministack_server.py) that needs no running emulator: which requests
count as changes, how a gateway error without CORS is turned into a readable one, and the atomic state write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from albums.http import cors_headers
from bootstrap.ministack_server import (
    StackServer,
    _GatewayErrors,
    _is_api_call,
    _state_files_changed_by,
    cors_of,
    write_json_atomically,
)
from bootstrap.server_protocol import origin

SITE_ORIGIN = origin(4599)

TIMED_OUT = json.dumps({"message": json.dumps({"errorMessage": "Task timed out after 10.00 seconds"})}).encode()


def relay(messages: list[dict]) -> list[dict]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> None:
        wrapper = _GatewayErrors(send, cors_of(SITE_ORIGIN))
        for message in messages:
            await wrapper(message)

    asyncio.run(run())
    return sent


def response(status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    return [{"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": body}]


@pytest.mark.parametrize(("status", "code"), [(502, "gateway_error"), (504, "gateway_error"), (429, "throttled")])
def test_a_gateway_error_without_cors_becomes_our_readable_error(status: int, code: str) -> None:
    start, body = relay(response(status, TIMED_OUT, [(b"content-type", b"application/json")]))
    headers = dict(start["headers"])
    assert start["status"] == status
    assert headers[b"access-control-allow-origin"] == SITE_ORIGIN.encode() and headers[b"retry-after"] == b"1"
    # the same CORS headers as the functions' own answers (the page reads both alike)
    assert {k.lower().encode(): v.encode() for k, v in cors_headers(SITE_ORIGIN).items()}.items() <= headers.items()
    error = json.loads(body["body"])["error"]
    assert error["code"] == code
    assert "Task timed out" not in body["body"].decode()  # the emulator's own text stays out
    assert int(headers[b"content-length"]) == len(body["body"])


def test_the_functions_own_errors_pass_unchanged() -> None:
    ours = response(500, b'{"error": {"code": "internal_error"}}',
                    [(b"content-type", b"application/json"), (b"Access-Control-Allow-Origin", b"*")])
    assert relay(ours) == ours
    ok = response(200, b"{}", [(b"content-type", b"application/json")])
    assert relay(ok) == ok


@pytest.mark.parametrize(("method", "target", "is_read"), [
    ("GET", "", True), ("OPTIONS", "", True),
    ("POST", "DynamoDB_20120810.Query", True), ("POST", "DynamoDB_20120810.GetItem", True),
    ("POST", "DynamoDB_20120810.PutItem", False), ("POST", "DynamoDB_20120810.UpdateItem", False),
    ("POST", "AWSCognitoIdentityProviderService.SignUp", False), ("POST", "", False), ("PUT", "", False),
    ("DELETE", "", False),
])
def test_what_counts_as_a_change(method: str, target: str, is_read: bool) -> None:
    headers = [(b"x-amz-target", target.encode())] if target else []
    assert StackServer._is_read({"method": method, "headers": headers}) is is_read


def test_the_state_file_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "dynamodb.json"
    write_json_atomically(path, {"v": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):  # fails half-way through writing the temp file
        write_json_atomically(path, {"v": 2, "bad": Unserialisable()})
    assert json.loads(path.read_text()) == {"v": 1}


@pytest.mark.parametrize(("headers", "files"), [
    ({b"authorization": b"AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/dynamodb/aws4_request, Sig=x"},
     {"dynamodb"}),
    ({b"authorization": b"AWS4-HMAC-SHA256 Credential=AKIA/20261126/eu-west-1/apigateway/aws4_request"},
     {"apigateway", "apigateway_v1"}),
    ({b"x-amz-target": b"AWSCognitoIdentityProviderService.SignUp"}, {"cognito"}),  # unsigned public call
    ({b"authorization": b"AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/kinesis/aws4_request"}, {"*"}),
    ({}, {"*"}),  # no idea: everything is saved
])
def test_which_state_files_a_request_may_change(headers: dict, files: set) -> None:
    assert _state_files_changed_by({"headers": list(headers.items())}) == files


@pytest.mark.parametrize(("path", "is_call"), [
    ("/_aws/execute-api/abc123/prod/album", True), ("/restapis/abc123/prod/_user_request_/album", True),
    ("/restapis/abc123/deployments", False), ("/restapis/abc123/resources/r1/methods/GET", False),  # management
])
def test_only_calls_of_a_deployed_api_pass_the_gate(path: str, is_call: bool) -> None:
    assert _is_api_call(path) is is_call
