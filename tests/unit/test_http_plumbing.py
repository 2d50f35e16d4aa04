"""What albums.http does for every entry point: CORS, the error shape, the catch-all 500, logging, event quirks."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from albums import http, repository, settings
from albums.domain import AlbumNotFound, InvalidRequest
from albums.handlers import create, delete, get, update

from .factory import FakeLambdaContext, album_body, call, make_event

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
}
ALL_HANDLERS = [get.handler, create.handler, update.handler, delete.handler]


def assert_cors(headers: dict[str, str]) -> None:
    assert {name: headers.get(name) for name in CORS} == CORS


def test_cors_headers_on_success_responses(table):
    for result in (
        call(create.handler, "POST", body=album_body(1)),
        call(get.handler, "GET", {"rank": "1"}),
        call(get.handler, "GET", None),
        call(update.handler, "PUT", {"rank": "1"}, {"Year": 1960, "version": 1}),
        call(delete.handler, "DELETE", {"rank": "1"}),
    ):
        assert result[0] in (200, 201, 204)
        assert_cors(result[2])


@pytest.mark.parametrize(
    ("handler", "args", "status"),
    [
        (get.handler, ("GET", {"rank": "0"}), 400),
        (get.handler, ("GET", {"rank": "4"}), 404),
        (create.handler, ("POST", None, {"Rank": "x"}), 400),
        (update.handler, ("PUT", {"rank": "4"}, {"Year": 1960, "version": 1}), 404),
        (delete.handler, ("DELETE", {"rank": "4"}), 404),
        (get.handler, ("GET", None, None), 401),
    ],
)
def test_cors_headers_and_error_shape_on_error_responses(table, handler, args, status):
    kwargs = {"claims": None} if status == 401 else {}
    code, body, headers = call(handler, *args, **kwargs)
    assert code == status
    assert_cors(headers)
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])


@pytest.mark.parametrize("handler", ALL_HANDLERS)
def test_an_unexpected_exception_is_a_logged_500_without_a_trace(table, monkeypatch, capsys, handler):
    def explode(*_args, **_kwargs):
        raise RuntimeError("secret-internal-detail from the depths")

    monkeypatch.setattr(repository.AlbumRepository, "get", explode)
    monkeypatch.setattr(repository.AlbumRepository, "create", explode)
    monkeypatch.setattr(repository.AlbumRepository, "update", explode)
    monkeypatch.setattr(repository.AlbumRepository, "delete", explode)
    query = {"rank": "3"}
    body = {"GET": None, "POST": album_body(3)}.get(_method(handler), {"Year": 1999, "version": 1})

    result = handler(make_event(_method(handler), query, body), FakeLambdaContext(aws_request_id="req-500"))

    assert result["statusCode"] == 500
    assert_cors(result["headers"])
    error = json.loads(result["body"])["error"]
    assert error["code"] == "internal_error" and "req-500" in error["message"] and error["requestId"] == "req-500"
    assert "secret" not in result["body"] and "Traceback" not in result["body"] and "RuntimeError" not in result["body"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failure = next(entry for entry in logged if entry["level"] == "ERROR")
    assert failure["request_id"] == "req-500" and "secret-internal-detail" in failure["exception"]
    assert logged[-1]["status"] == 500


def _method(handler) -> str:
    return {get.handler: "GET", create.handler: "POST", update.handler: "PUT", delete.handler: "DELETE"}[handler]


def test_a_dynamodb_failure_is_a_500_not_a_crash(table, monkeypatch):
    monkeypatch.setattr(repository.default_repository(), "_table", repository.albums_table("no-such-table"))
    status, body, headers = call(get.handler, "GET", {"rank": "1"})
    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert_cors(headers)


@pytest.mark.parametrize("event", [None, [], "GET /album", {"httpMethod": "GET"}, {"requestContext": None}])
def test_events_that_are_not_api_gateway_proxy_events_never_raise(table, event):
    result = get.handler(event, FakeLambdaContext())
    assert result["statusCode"] in (401, 500)
    assert_cors(result["headers"])


def test_one_json_log_line_per_request_with_the_request_id(table, capsys):
    get.handler(make_event("GET", {"rank": "12"}), FakeLambdaContext(aws_request_id="req-abc"))

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["request_id"] == "req-abc" and entry["status"] == 404 and entry["method"] == "GET"
    assert entry["gateway_request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert entry["level"] == "INFO" and "duration_ms" in entry


def test_options_preflight_reaching_a_function_is_204_with_cors(table):
    result = create.handler(make_event("OPTIONS"), FakeLambdaContext())
    assert (result["statusCode"], result["body"]) == (204, "")
    assert_cors(result["headers"])


def test_base64_encoded_bodies_are_decoded(table):
    event = make_event("POST", raw_body=base64.b64encode(json.dumps(album_body(77)).encode()).decode())
    event["isBase64Encoded"] = True
    assert create.handler(event, FakeLambdaContext())["statusCode"] == 201

    event["body"] = "not base64!"
    result = create.handler(event, FakeLambdaContext())
    assert result["statusCode"] == 400 and "body" in json.loads(result["body"])["error"]["fields"]


def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(table):
    # Base64 (binary media type): the function sees the bytes themselves
    raw = json.dumps(album_body(78, Album="Caf-e")).encode().replace(b"Caf-e", b"Caf\xe9")  # Latin-1, not UTF-8
    event = make_event("POST", raw_body=base64.b64encode(raw).decode())
    event["isBase64Encoded"] = True
    result = create.handler(event, FakeLambdaContext())
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"]["fields"] == {"body": http.BODY_NOT_UTF8}
    # Text (the usual case): API Gateway has already replaced each bad byte with U+FFFD
    event = make_event("POST", raw_body=raw.decode("utf-8", errors="replace"))
    result = create.handler(event, FakeLambdaContext())
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"]["fields"] == {"body": http.BODY_NOT_UTF8}


def test_null_query_string_parameters_and_lower_case_headers_are_fine(table):
    event = make_event("GET")
    assert event["queryStringParameters"] is None and "authorization" in event["headers"]
    assert get.handler(event, FakeLambdaContext())["statusCode"] == 200


def test_allowed_origin_comes_from_the_environment(table, monkeypatch):
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://albums.example.com")
    settings.get_settings.cache_clear()
    try:
        handler = http.api_handler(lambda request: http.Response(200, {"ok": True}))
        result = handler(make_event("GET"), FakeLambdaContext())
    finally:
        settings.get_settings.cache_clear()
    assert result["headers"]["Access-Control-Allow-Origin"] == "https://albums.example.com"


def test_error_response_mapping():
    assert http.error_response(AlbumNotFound(4)).status == 404
    invalid = http.error_response(InvalidRequest({"Year": "bad"}))
    assert (invalid.status, invalid.body["error"]["fields"]) == (400, {"Year": "bad"})


def test_an_unserialisable_body_still_answers_500_with_cors(table):
    handler = http.api_handler(lambda request: http.Response(200, {"bad": object()}))
    result = handler(make_event("GET"), FakeLambdaContext())
    assert result["statusCode"] == 500 and json.loads(result["body"])["error"]["code"] == "internal_error"
    assert_cors(result["headers"])


def test_an_aws_error_is_logged_with_its_error_code(table, monkeypatch, capsys):
    def refused(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "GetItem")

    monkeypatch.setattr(repository.AlbumRepository, "get", refused)
    result = get.handler(make_event("GET", {"rank": "3"}), FakeLambdaContext(aws_request_id="req-aws"))
    assert result["statusCode"] == 500
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failure = next(entry for entry in logged if entry["level"] == "ERROR")
    assert failure["error_type"] == "ClientError"
    assert failure["error_code"] == "ProvisionedThroughputExceededException"
    assert failure["request_id"] == "req-aws"
