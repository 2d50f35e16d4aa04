"""Who may call and what they may do (albums.authorization, applied by albums.http for every entry point), and the
request's form: JSON bodies only (415) and each query parameter once (400). In-process, with moto."""

from __future__ import annotations

import json

import pytest

from albums import authorization
from albums.authorization import Caller, authorize, caller_from_claims, parse_groups
from albums.domain import NotAllowed, Unauthenticated
from albums.handlers import create, delete, get, stats, update

from .factory import CLIENT_ID, FakeLambdaContext, album_body, id_token_claims, make_event, stored_albums

EDITOR = id_token_claims()
READER = id_token_claims(groups=None)
WRITES = [
    (create.handler, "POST", None, album_body(3)),
    (update.handler, "PUT", {"rank": "3"}, {"Year": 1999, "version": 1}),
    (delete.handler, "DELETE", {"rank": "3"}, None),
]
CORS_ORIGIN = "Access-Control-Allow-Origin"


def invoke(handler, event) -> tuple[int, dict | None, dict]:
    result = handler(event, FakeLambdaContext())
    return result["statusCode"], (json.loads(result["body"]) if result["body"] else None), result["headers"]


@pytest.fixture
def album(table):
    status, body, _ = invoke(create.handler, make_event("POST", None, album_body(3), claims=EDITOR))
    assert status == 201
    return body


# ---- roles x methods ----------------------------------------------------------------------------------------------


def test_an_editor_may_read_create_change_and_delete(table):
    assert invoke(create.handler, make_event("POST", None, album_body(3), claims=EDITOR))[0] == 201
    assert invoke(get.handler, make_event("GET", {"rank": "3"}, claims=EDITOR))[0] == 200
    change = make_event("PUT", {"rank": "3"}, {"Year": 1999, "version": 1}, claims=EDITOR)
    assert invoke(update.handler, change)[0] == 200
    assert invoke(delete.handler, make_event("DELETE", {"rank": "3"}, claims=EDITOR))[0] == 204


def test_a_reader_may_read_one_album_pages_and_the_stats(album):
    assert invoke(get.handler, make_event("GET", {"rank": "3"}, claims=READER))[0] == 200
    status, page, _ = invoke(get.handler, make_event("GET", {"limit": "5"}, claims=READER))
    assert status == 200 and page["total"] == 1
    status, counts, _ = invoke(stats.handler, make_event("GET", claims=READER))
    assert status == 200 and counts["total"] == 1


@pytest.mark.parametrize(("handler", "method", "query", "body"), WRITES)
def test_a_readers_write_is_403_with_cors_and_changes_nothing(album, table, handler, method, query, body):
    before = stored_albums(table)

    status, answer, headers = invoke(handler, make_event(method, query, body, claims=READER))

    assert status == 403
    assert answer["error"]["code"] == "forbidden" and "editor" in answer["error"]["message"]
    assert headers[CORS_ORIGIN] == "*" and headers["Content-Type"] == "application/json"
    assert stored_albums(table) == before


@pytest.mark.parametrize("groups", ["[staff]", "[]", "", "editorsx", "[Editors]"])
@pytest.mark.parametrize(("handler", "method", "query", "body"), WRITES)
def test_only_the_editors_group_writes(album, handler, method, query, body, groups):
    status, _, _ = invoke(handler, make_event(method, query, body, claims=id_token_claims(groups=groups)))
    assert status == 403


@pytest.mark.parametrize("groups", ["[editors]", "[staff editors]", "editors,staff", "editors"])
def test_editors_among_other_groups_may_write(table, groups):
    event = make_event("POST", None, album_body(5), claims=id_token_claims(groups=groups))
    assert invoke(create.handler, event)[0] == 201


def test_a_method_nobody_decided_on_is_refused():
    with pytest.raises(NotAllowed):
        authorize(Caller("someone", frozenset({"editors"})), "PATCH")
    assert set(authorization.REQUIRED_GROUP) == {"GET", "POST", "PUT", "DELETE"}


# ---- token kinds --------------------------------------------------------------------------------------------------

ACCESS_TOKEN = {"sub": "u-1", "token_use": "access", "client_id": CLIENT_ID, "cognito:groups": "[editors]"}
REFRESH_TOKEN = {"sub": "u-1", "token_use": "refresh", "client_id": CLIENT_ID}
OTHER_CLIENT = id_token_claims(aud="another-client-of-the-pool")
NO_AUDIENCE = {key: value for key, value in EDITOR.items() if key != "aud"}
NO_TOKEN_USE = {key: value for key, value in EDITOR.items() if key != "token_use"}


@pytest.mark.parametrize("claims", [ACCESS_TOKEN, REFRESH_TOKEN, OTHER_CLIENT, NO_AUDIENCE, NO_TOKEN_USE, {}],
                         ids=["access", "refresh", "other-client", "no-aud", "no-token-use", "none"])
@pytest.mark.parametrize(("handler", "method", "query", "body"),
                         [(get.handler, "GET", {"rank": "3"}, None), (stats.handler, "GET", None, None), *WRITES])
def test_only_this_clients_id_token_is_a_credential(album, table, handler, method, query, body, claims):
    before = stored_albums(table)

    status, answer, headers = invoke(handler, make_event(method, query, body, claims=claims))

    assert status == 401
    assert answer["error"]["code"] == "unauthorized" and headers[CORS_ORIGIN] == "*"
    assert stored_albums(table) == before


def test_the_401_says_which_token_to_send():
    with pytest.raises(Unauthenticated, match=r"ID token.*access token"):
        caller_from_claims(ACCESS_TOKEN, CLIENT_ID)
    with pytest.raises(Unauthenticated, match="another app"):
        caller_from_claims(OTHER_CLIENT, CLIENT_ID)


@pytest.mark.parametrize(
    ("raw", "groups"),
    [(None, set()), ("", set()), ("[]", set()), ("[editors]", {"editors"}), ("[a b]", {"a", "b"}),
     ("a,b", {"a", "b"}), ("a, b", {"a", "b"}), (["a", "b"], {"a", "b"}), ("editors", {"editors"})],
)
def test_groups_as_api_gateway_passes_them(raw, groups):
    assert parse_groups(raw) == groups


# ---- the request's form: who first, then JSON bodies and single query parameters -----------------------------------


def with_content_type(event: dict, value: str | None, name: str = "content-type") -> dict:
    headers = {key: item for key, item in event["headers"].items() if key.lower() != "content-type"}
    if value is not None:
        headers[name] = value
    return {**event, "headers": headers}


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None,
    "application/json; charset=latin-1", "application/jsonx", "text/json",
])
@pytest.mark.parametrize(("handler", "method", "query", "body"), WRITES[:2])
def test_a_body_not_sent_as_json_is_415(album, table, handler, method, query, body, content_type):
    before = stored_albums(table)
    event = with_content_type(make_event(method, query, body, claims=EDITOR), content_type)

    status, answer, headers = invoke(handler, event)

    assert status == 415
    assert answer["error"]["code"] == "unsupported_media_type" and "application/json" in answer["error"]["message"]
    assert headers[CORS_ORIGIN] == "*"
    assert stored_albums(table) == before


@pytest.mark.parametrize(("name", "value"), [
    ("content-type", "application/json"), ("Content-Type", "application/json; charset=UTF-8"),
    ("content-type", "Application/JSON;charset=utf-8"), ("CONTENT-TYPE", 'application/json; charset="utf-8"'),
])
def test_json_in_any_spelling_is_taken(table, name, value):
    event = with_content_type(make_event("POST", None, album_body(9), claims=EDITOR), value, name)
    assert invoke(create.handler, event)[0] == 201


def test_a_delete_needs_no_content_type(album):
    event = with_content_type(make_event("DELETE", {"rank": "3"}, claims=EDITOR), None)
    assert invoke(delete.handler, event)[0] == 204


def with_repeated(event: dict, name: str, values: list[str]) -> dict:
    return {**event, "queryStringParameters": {**(event["queryStringParameters"] or {}), name: values[-1]},
            "multiValueQueryStringParameters": {**(event["multiValueQueryStringParameters"] or {}), name: values}}


@pytest.mark.parametrize(("handler", "method", "query", "body", "name"), [
    (get.handler, "GET", {"rank": "3"}, None, "rank"),
    (get.handler, "GET", {"limit": "5"}, None, "limit"),
    (get.handler, "GET", {"q": "blue"}, None, "q"),
    (stats.handler, "GET", {"any": "x"}, None, "any"),
    (update.handler, "PUT", {"rank": "3"}, {"Year": 1999, "version": 1}, "rank"),
    (delete.handler, "DELETE", {"rank": "3"}, None, "rank"),
    (delete.handler, "DELETE", {"rank": "3", "version": "1"}, None, "version"),
])
def test_a_repeated_query_parameter_is_400_naming_it(album, table, handler, method, query, body, name):
    before = stored_albums(table)
    event = with_repeated(make_event(method, query, body, claims=EDITOR), name, [query[name], query[name] + "0"])

    status, answer, _ = invoke(handler, event)

    assert status == 400
    assert answer["error"]["fields"] == {name: "must be given once"}
    assert stored_albums(table) == before


def test_who_is_decided_before_what_was_sent(album):
    reader_text = with_content_type(make_event("POST", None, album_body(4), claims=READER), "text/plain")
    assert invoke(create.handler, reader_text)[0] == 403
    refresh_text = with_content_type(make_event("POST", None, album_body(4), claims=REFRESH_TOKEN), "text/plain")
    assert invoke(create.handler, refresh_text)[0] == 401
    reader_repeat = with_repeated(make_event("DELETE", {"rank": "3"}, claims=READER), "rank", ["3", "4"])
    assert invoke(delete.handler, reader_repeat)[0] == 403
