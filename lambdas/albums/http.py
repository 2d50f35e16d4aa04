"""API Gateway (REST, proxy 1.0) plumbing shared by the entry points.

The one place that parses events, checks who calls (albums.authorization) and the request's form (JSON bodies, each
query parameter once), sets CORS headers, maps domain exceptions to the JSON error shape, catches everything else as
a logged 500 (MiniStack would otherwise answer its own 502 without CORS, unreadable by a browser) and writes the one
JSON log line per request.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from albums.authorization import Caller, authorize, caller_from_claims
from albums.domain import (
    AlbumError,
    AlbumNotFound,
    InvalidRequest,
    NotAllowed,
    RankTaken,
    ServiceBusy,
    Unauthenticated,
    UnreadableAlbum,
    UnsupportedMediaType,
    VersionConflict,
)
from albums.settings import get_settings

# The request body: JSON, at most this big, UTF-8 (the album's own rules are albums.domain's).
MAX_BODY_BYTES = 16 * 1024
BODY_NOT_UTF8 = "must be UTF-8 encoded JSON (it has bytes that are not UTF-8, or U+FFFD)"


def parse_json_body(body: str | None) -> object:
    """Raw request body -> parsed JSON; size and syntax problems are reported on the field "body"."""
    if body is None or body == "":
        raise InvalidRequest({"body": "is required (a JSON object)"})
    if len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise InvalidRequest({"body": f"must be at most {MAX_BODY_BYTES} bytes"})
    if "\ufffd" in body:  # API Gateway hands over bytes that are not UTF-8 as U+FFFD: the body was not UTF-8
        raise InvalidRequest({"body": BODY_NOT_UTF8})
    try:
        return json.loads(body, object_pairs_hook=_reject_duplicate_keys)
    except _RepeatedField:
        raise InvalidRequest({"body": "must not repeat a field"}) from None
    except (ValueError, RecursionError):  # JSONDecodeError, too many integer digits, absurd nesting
        raise InvalidRequest({"body": "must be valid JSON"}) from None


class _RepeatedField(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _RepeatedField
    return result


CORS_ALLOW_HEADERS = "Content-Type,Authorization"
CORS_ALLOW_METHODS = "GET,POST,PUT,DELETE,OPTIONS"
REQUEST_ID_HEADER = "X-Request-Id"
JSON_MEDIA_TYPE = "application/json"
METHODS_WITH_A_BODY = frozenset({"POST", "PUT"})

logger = logging.getLogger("albums")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    body: str | None
    caller: str  # the Cognito `sub` of the authorizer's claims
    gateway_request_id: str | None = None
    groups: frozenset[str] = frozenset()  # the caller's Cognito groups (`cognito:groups`)
    content_type: str | None = None  # the Content-Type header as sent, if any
    repeated: tuple[str, ...] = ()  # query parameters given more than once (`query` holds one value of each)

    def json_body(self) -> object:
        return parse_json_body(self.body)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None  # JSON-serialisable; None means an empty body (204)
    headers: Mapping[str, str] = field(default_factory=dict)


Operation = Callable[[Request], Response]
LambdaHandler = Callable[[Any, Any], dict[str, Any]]


def api_handler(operation: Operation) -> LambdaHandler:
    """Turns `operation(Request) -> Response` into a Lambda proxy handler that never raises.

    Runs when the entry point is imported, so missing configuration fails the cold start with a clear message.
    """
    settings = get_settings()
    configure_logging(settings.log_level)
    cors = cors_headers(settings.cors_allow_origin)
    client_id = settings.user_pool_client_id

    @functools.wraps(operation)
    def handler(event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        request_id = str(getattr(context, "aws_request_id", None) or "-")
        reset = _request_id.set(request_id)
        try:
            response, request = _respond(operation, event, request_id, client_id)
            try:
                proxy = _to_proxy(response, cors)
            except Exception:  # e.g. a body json cannot encode: still answer in the contract's shape
                logger.exception("unserialisable response")
                response = _internal_error(request_id)
                proxy = _to_proxy(response, cors)
            # The id its log lines carry (`make logs REQUEST_ID=...`): API Gateway's own id differs on MiniStack.
            proxy["headers"][REQUEST_ID_HEADER] = request_id
            logger.info(
                "request",
                extra={"fields": _access_fields(event, request, response.status, started)},
            )
            return proxy
        finally:
            _request_id.reset(reset)

    return handler


def cors_headers(allow_origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": allow_origin,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
        "Access-Control-Expose-Headers": REQUEST_ID_HEADER,
    }


def _respond(operation: Operation, event: Any, request_id: str, client_id: str) -> tuple[Response, Request | None]:
    request = None
    try:
        request = parse_request(event, client_id)
        if request.method == "OPTIONS":  # preflight normally ends at the gateway's mock integration
            return Response(204), request
        # Who, then what: a reader's write is refused whatever it carries; a well-formed request goes to the operation.
        authorize(caller_from_request(request), request.method)
        check_form(request)
        return operation(request), request
    except AlbumError as error:
        return error_response(error), request
    except Exception:
        logger.exception("unhandled error")
        return _internal_error(request_id), request


def _internal_error(request_id: str) -> Response:
    # The request id is also in the function's log line for this failure: a user can quote it, and it finds the log.
    message = f"Something went wrong on our side; please try again. Request id: {request_id}."
    return Response(500, error_body("internal_error", message, requestId=request_id))


def parse_request(event: Any, client_id: str) -> Request:
    """The event as a Request; Unauthenticated (401) unless the claims are those of this app client's ID token."""
    if not isinstance(event, Mapping):
        raise TypeError(f"expected an API Gateway proxy event, got {type(event).__name__}")
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    caller = caller_from_claims(claims, client_id)
    query, repeated = _query(event)
    return Request(
        method=str(event.get("httpMethod") or "").upper(),
        path=str(event.get("path") or ""),
        query=query,
        body=_body_text(event),
        caller=caller.sub,
        gateway_request_id=context.get("requestId"),
        groups=caller.groups,
        content_type=_header(event, "content-type"),
        repeated=repeated,
    )


def caller_from_request(request: Request) -> Caller:
    return Caller(sub=request.caller, groups=request.groups)


def check_form(request: Request) -> None:
    """A body is JSON (415 otherwise) and a query parameter comes once (400 otherwise: API Gateway would pass the
    last value on AWS, and MiniStack the first, so "?rank=1&rank=2" would delete different albums)."""
    if request.method in METHODS_WITH_A_BODY and not is_json(request.content_type):
        sent = f"it was sent as {request.content_type}" if request.content_type else "it had no Content-Type"
        raise UnsupportedMediaType(f"Send the body as JSON with Content-Type: {JSON_MEDIA_TYPE} ({sent}).")
    if request.repeated:
        raise InvalidRequest({name: "must be given once" for name in request.repeated})


def is_json(content_type: str | None) -> bool:
    """application/json, with any parameters but a charset other than UTF-8 (the body is read as UTF-8)."""
    if not content_type:
        return False
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != JSON_MEDIA_TYPE:
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in {"utf-8", "utf8"}:
            return False
    return True


def _query(event: Mapping[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    single = dict(event.get("queryStringParameters") or {})
    multi = event.get("multiValueQueryStringParameters") or {}
    repeated = tuple(sorted(name for name, values in multi.items() if isinstance(values, list) and len(values) > 1))
    return single, repeated


def _header(event: Mapping[str, Any], name: str) -> str | None:
    """A header's value: names arrive lower-cased on MiniStack and as the client sent them on AWS."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and value is not None:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == name and values:
            return str(values[-1])
    return None


def _body_text(event: Mapping[str, Any]) -> str | None:
    body = event.get("body")
    if body is None or not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidRequest({"body": BODY_NOT_UTF8}) from None


_ERRORS: dict[type[AlbumError], tuple[int, str]] = {
    InvalidRequest: (400, "validation_error"),
    Unauthenticated: (401, "unauthorized"),
    NotAllowed: (403, "forbidden"),
    AlbumNotFound: (404, "not_found"),
    RankTaken: (409, "rank_taken"),
    VersionConflict: (409, "version_conflict"),
    UnreadableAlbum: (409, "unreadable_album"),  # the request is fine; the stored item is not an album
    UnsupportedMediaType: (415, "unsupported_media_type"),
    ServiceBusy: (503, "busy"),
}


def error_response(error: AlbumError) -> Response:
    status, code = _ERRORS.get(type(error), (500, "internal_error"))
    if isinstance(error, InvalidRequest):
        return Response(status, error_body(code, error.message, fields=error.fields))
    if isinstance(error, VersionConflict):
        return Response(status, error_body(code, str(error), current=error.current.to_json()))
    if isinstance(error, ServiceBusy):
        return Response(status, error_body(code, str(error)), {"Retry-After": str(error.retry_after_seconds)})
    return Response(status, error_body(code, str(error)))


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def _to_proxy(response: Response, cors: Mapping[str, str]) -> dict[str, Any]:
    headers = {**response.headers, **cors}
    if response.body is None:
        body = ""
    else:
        headers["Content-Type"] = "application/json"
        body = json.dumps(response.body, separators=(",", ":"))
    return {"statusCode": response.status, "headers": headers, "body": body, "isBase64Encoded": False}


def _access_fields(event: Any, request: Request | None, status: int, started: float) -> dict[str, Any]:
    fields: dict[str, Any] = {"status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
    if request is not None:
        fields.update(method=request.method, path=request.path, query=dict(request.query), caller=request.caller)
        fields["gateway_request_id"] = request.gateway_request_id
    elif isinstance(event, Mapping):
        fields["method"] = event.get("httpMethod")
    return fields


# --- logging: JSON lines on stdout, correlated by the Lambda request id ------------------------------------------


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            code = _aws_error_code(record.exc_info[1])
            if code:  # "ClientError" alone does not say what AWS refused
                entry["error_code"] = code
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _aws_error_code(error: BaseException | None) -> str | None:
    """The AWS error code of a botocore ClientError (e.g. ProvisionedThroughputExceededException), else None."""
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return None
    code = (response.get("Error") or {}).get("Code")
    return str(code) if code else None


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stdout is at emit time (the Lambda runtime and pytest's capsys both swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: str) -> None:
    if not any(isinstance(handler, _StdoutHandler) for handler in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonLogFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # the runtime's root handler would print every line a second time
