"""DELETE /album?rank=N[&version=V] (albums-delete): 204, 400, 404, 409 with error.current."""

from __future__ import annotations

import pytest

from albums.handlers import create, delete, update

from .factory import album_body, call, stored_catalog


@pytest.fixture
def stored(table):
    assert call(create.handler, "POST", body=album_body(31))[0] == 201


def test_delete_is_204_with_an_empty_body_and_the_album_is_gone(stored, table):
    result = delete.handler(_event({"rank": "31"}), None)

    assert result["statusCode"] == 204
    assert result["body"] == ""
    assert "Content-Type" not in result["headers"]
    assert "Item" not in table.get_item(Key={"Rank": 31})


def test_delete_unknown_rank_is_404(table):
    status, body, _ = call(delete.handler, "DELETE", {"rank": "31"})
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_delete_twice_is_404_the_second_time(stored):
    assert call(delete.handler, "DELETE", {"rank": "31"})[0] == 204
    assert call(delete.handler, "DELETE", {"rank": "31"})[0] == 404


def test_conditional_delete_with_the_current_version(stored):
    assert call(delete.handler, "DELETE", {"rank": "31", "version": "1"})[0] == 204


def test_conditional_delete_with_a_stale_version_is_409_and_keeps_the_album(stored, table):
    assert call(update.handler, "PUT", {"rank": "31"}, {"Year": 1960, "version": 1})[0] == 200

    status, body, _ = call(delete.handler, "DELETE", {"rank": "31", "version": "1"})

    assert status == 409
    assert body["error"]["code"] == "version_conflict"
    assert body["error"]["current"]["version"] == 2 and body["error"]["current"]["Year"] == 1960
    assert "Item" in table.get_item(Key={"Rank": 31})


def test_conditional_delete_of_an_unknown_rank_is_404(table):
    status, body, _ = call(delete.handler, "DELETE", {"rank": "31", "version": "1"})
    assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("query", "field"),
    [(None, "rank"), ({"rank": "0"}, "rank"), ({"rank": "1", "version": "0"}, "version"),
     ({"rank": "1", "version": "v1"}, "version")],
)
def test_bad_parameters_are_400(table, query, field):
    status, body, _ = call(delete.handler, "DELETE", query)
    assert status == 400
    assert list(body["error"]["fields"]) == [field]


def test_delete_removes_the_catalog_entry_and_a_refused_delete_does_not(stored, table):
    assert call(create.handler, "POST", body=album_body(32))[0] == 201
    assert call(update.handler, "PUT", {"rank": "32"}, {"Year": 1960, "version": 1})[0] == 200
    assert sorted(stored_catalog(table)) == [31, 32]

    assert call(delete.handler, "DELETE", {"rank": "31"})[0] == 204
    assert sorted(stored_catalog(table)) == [32]
    assert call(delete.handler, "DELETE", {"rank": "31"})[0] == 404
    assert call(delete.handler, "DELETE", {"rank": "32", "version": "1"})[0] == 409
    assert sorted(stored_catalog(table)) == [32]
    assert call(delete.handler, "DELETE", {"rank": "32", "version": "2"})[0] == 204
    assert stored_catalog(table) == {}


def _event(query):
    from .factory import make_event

    return make_event("DELETE", query)
