"""PUT /album?rank=N (albums-update): 200 version+1, 400, 404, 409 version_conflict with error.current."""

from __future__ import annotations

import pytest

from albums.handlers import create, update

from .factory import album_body, call, id_token_claims, stored_catalog

OTHER_CALLER = id_token_claims("99999999-8888-7777-6666-555555555555")


@pytest.fixture
def stored(table):
    status, body, _ = call(create.handler, "POST", body=album_body(8, Album="Original", Year=1970))
    assert status == 201
    return body


def test_update_changes_only_given_fields_and_bumps_the_version(stored, table):
    status, body, _ = call(update.handler, "PUT", {"rank": "8"}, {"Album": " Renamed ", "version": 1},
                           claims=OTHER_CALLER)

    assert status == 200
    assert body["Album"] == "Renamed" and body["Year"] == 1970 and body["version"] == 2
    assert body["updatedBy"] == OTHER_CALLER["sub"] and body["createdBy"] == stored["createdBy"]
    assert body["createdAt"] == stored["createdAt"] and body["updatedAt"] >= stored["updatedAt"]
    assert stored_catalog(table)[8] == ["renamed", "Miles Davis", "Jazz", 1970]


def test_every_changeable_field_at_once(stored):
    changes = {"Album": "A", "Artist": "B", "Genre": "C", "Year": 2001, "version": 1}
    status, body, _ = call(update.handler, "PUT", {"rank": "8"}, changes)
    assert status == 200
    assert {k: body[k] for k in ("Album", "Artist", "Genre", "Year", "version")} == {**changes, "version": 2}


def test_stale_version_is_409_with_the_current_album(stored):
    assert call(update.handler, "PUT", {"rank": "8"}, {"Genre": "Jazz", "version": 1})[0] == 200

    status, body, _ = call(update.handler, "PUT", {"rank": "8"}, {"Genre": "Blues", "version": 1})

    assert status == 409
    assert body["error"]["code"] == "version_conflict"
    assert body["error"]["current"]["Genre"] == "Jazz"
    assert body["error"]["current"]["version"] == 2


def test_a_future_version_is_also_a_conflict(stored):
    status, body, _ = call(update.handler, "PUT", {"rank": "8"}, {"Genre": "Blues", "version": 7})
    assert (status, body["error"]["current"]["version"]) == (409, 1)


@pytest.mark.parametrize("store_returns_old_item", [True, False])
def test_a_change_between_read_and_write_is_a_409_with_the_album_as_it_then_is(stored, monkeypatch,
                                                                               store_returns_old_item):
    # MiniStack and AWS return the old item with a failed condition; without it the repository reads it back.
    from botocore.exceptions import ClientError

    from albums import repository

    repo = repository.default_repository()
    real_transact = repo._client.transact_write_items
    raced: list[int] = []

    def someone_else_writes_first(**kwargs):
        if not raced:
            raced.append(0)
            raced[0] = call(update.handler, "PUT", {"rank": "8"}, {"Genre": "Jazz", "version": 1})[0]
        try:
            return real_transact(**kwargs)
        except ClientError as error:
            for reason in error.response.get("CancellationReasons", []):
                if not store_returns_old_item:
                    reason.pop("Item", None)
            raise

    monkeypatch.setattr(repo._client, "transact_write_items", someone_else_writes_first)
    status, body, _ = call(update.handler, "PUT", {"rank": "8"}, {"Genre": "Blues", "version": 1})

    assert raced == [200]
    assert (status, body["error"]["current"]["Genre"], body["error"]["current"]["version"]) == (409, "Jazz", 2)


def test_unknown_rank_is_404(table):
    status, body, _ = call(update.handler, "PUT", {"rank": "77"}, {"Genre": "Jazz", "version": 1})
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert table.scan()["Items"] == []  # an update must never create an album


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ({"rank": "8"}, {"Rank": 9, "version": 1}, "Rank"),
        ({"rank": "8"}, {"Genre": "Jazz"}, "version"),
        ({"rank": "8"}, {"Genre": "", "version": 1}, "Genre"),
        ({"rank": "8"}, {"version": 1}, "body"),
        ({"rank": "8"}, {"Year": "1999", "version": 1}, "Year"),
        ({"rank": "8"}, {"Genre": "Jazz", "version": 1, "updatedBy": "me"}, "updatedBy"),
        ({}, {"Genre": "Jazz", "version": 1}, "rank"),
        ({"rank": "x"}, {"Genre": "Jazz", "version": 1}, "rank"),
        (None, {"Genre": "Jazz", "version": 1}, "rank"),
    ],
)
def test_invalid_update_is_400_naming_the_field(stored, query, body, field, table):
    status, response, _ = call(update.handler, "PUT", query, body)

    assert status == 400
    assert field in response["error"]["fields"]
    assert table.get_item(Key={"Rank": 8})["Item"]["version"] == 1


def test_malformed_body_is_400(stored):
    status, response, _ = call(update.handler, "PUT", {"rank": "8"}, raw_body='{"version": 1')
    assert (status, response["error"]["fields"]) == (400, {"body": "must be valid JSON"})
