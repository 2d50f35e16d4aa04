"""GET /album (albums-get): one album (200/404/400) or a page (200/400). Listings, paging in depth: test_listing.py."""

from __future__ import annotations

import base64
import json

import pytest

from albums.catalog import _fingerprint
from albums.domain import PageRequest
from albums.handlers import create, get

from .factory import album_body, call


@pytest.fixture
def three_albums(table):
    for rank in (3, 1, 2):
        assert call(create.handler, "POST", body=album_body(rank, Album=f"Album {rank}"))[0] == 201
    return table


def test_get_by_rank_returns_the_album(three_albums):
    status, body, headers = call(get.handler, "GET", {"rank": "2"})

    assert status == 200
    assert body["Album"] == "Album 2" and body["Rank"] == 2 and body["version"] == 1
    assert set(body) == {"Rank", "Album", "Artist", "Genre", "Year", "version", "createdAt", "updatedAt",
                         "createdBy", "updatedBy"}
    assert headers["Content-Type"] == "application/json"


def test_unknown_rank_is_404_not_found(three_albums):
    status, body, _ = call(get.handler, "GET", {"rank": "999999"})
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize("rank", ["0", "abc", "1000001", "-3", ""])
def test_bad_rank_is_400_naming_rank(three_albums, rank):
    status, body, _ = call(get.handler, "GET", {"rank": rank})
    assert status == 400
    assert list(body["error"]["fields"]) == ["rank"]


def test_list_without_parameters_returns_all_in_ascending_rank(three_albums):
    status, body, _ = call(get.handler, "GET", None)

    assert status == 200
    assert [album["Rank"] for album in body["items"]] == [1, 2, 3]
    assert body["nextToken"] is None


def test_list_on_an_empty_table_is_an_empty_last_page(table):
    status, body, _ = call(get.handler, "GET", {})
    assert (status, body) == (200, {"items": [], "nextToken": None, "start": 0, "total": 0, "decades": [],
                                    "skipped": 0})


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1", "2.5"])
def test_bad_limit_is_400_naming_limit(table, limit):
    status, body, _ = call(get.handler, "GET", {"limit": limit})
    assert status == 400
    assert list(body["error"]["fields"]) == ["limit"]


def _token(payload: object, *, padded: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return encoded if padded else encoded.rstrip("=")


RANK_ORDER = _fingerprint(PageRequest(limit=50, next_token=None))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage!",
        "a" * 1500,
        "%%%",
        _token({"f": RANK_ORDER, "v": 1}),
        _token({"f": RANK_ORDER, "v": 0, "r": 0}),  # rank 0 is the directory, not a position
        _token({"f": RANK_ORDER, "v": 2, "r": 1}),  # in Rank order the value is the rank
        _token({"f": RANK_ORDER, "v": "1", "r": 1}),
        _token({"f": RANK_ORDER, "v": 1, "r": True}),
        _token({"f": RANK_ORDER, "v": 1_000_001, "r": 1_000_001}),
        _token({"f": RANK_ORDER, "v": 1, "r": 1, "x": 1}),
        _token({"f": RANK_ORDER, "v": 1, "r": 1}, padded=True) + "==",
        _token({"r": 1, "v": 1, "f": RANK_ORDER}),  # not the canonical spelling
        _token({"f": "0" * 12, "v": 1, "r": 1}),  # another query's token
        _token({}),
        _token([]),
        _token("b"),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_next_token_is_400_naming_next_token(three_albums, token):
    status, body, _ = call(get.handler, "GET", {"nextToken": token})
    assert status == 400
    assert list(body["error"]["fields"]) == ["nextToken"]


def test_get_ignores_http_details_like_multi_value_parameters(three_albums):
    status, body, _ = call(get.handler, "GET", {"rank": "1", "utm_source": "mail"})
    assert (status, body["Rank"]) == (200, 1)


def test_a_token_we_issued_is_accepted(three_albums):
    status, body, _ = call(get.handler, "GET", {"nextToken": _token({"f": RANK_ORDER, "v": 1, "r": 1})})
    assert status == 200
    assert [album["Rank"] for album in body["items"]] == [2, 3]
    assert (body["start"], body["total"]) == (1, 3)


@pytest.mark.parametrize("item", [
    {"Rank": 7, "Artist": "No Title", "Genre": "Rock", "Year": 1999},  # no Album, nothing of ours
    {"Rank": 7, "Album": "Year as text", "Artist": "A", "Genre": "Rock", "Year": "nineteen", "version": 1,
     "createdAt": "x", "updatedAt": "x", "createdBy": "x", "updatedBy": "x"},
])
def test_a_record_written_by_another_tool_is_a_clear_409_not_a_500(table, capsys, item):
    table.put_item(Item=item)
    status, body, headers = call(get.handler, "GET", {"rank": "7"})
    assert (status, body["error"]["code"]) == (409, "unreadable_album")
    assert "Album 7" in body["error"]["message"]
    assert headers["Access-Control-Allow-Origin"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(entry["message"] == "album cannot be read" and entry["rank"] == 7 for entry in logged)
