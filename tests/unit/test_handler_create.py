"""POST /album (albums-create): 201, 400, 401, 409 rank_taken."""

from __future__ import annotations

import pytest

from albums.handlers import create

from .factory import CALLER, album_body, call, stored_catalog

ISO_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def test_created_album_is_returned_with_version_1_and_audit_fields(table):
    status, body, _ = call(create.handler, "POST", body=album_body(12, Album="  Kind of Blue  "))

    assert status == 201
    assert body["Rank"] == 12 and body["Album"] == "Kind of Blue" and body["version"] == 1
    assert body["createdBy"] == body["updatedBy"] == CALLER
    assert body["createdAt"] == body["updatedAt"]
    assert body["createdAt"].endswith("Z")
    stored = table.get_item(Key={"Rank": 12})["Item"]
    assert stored["Album"] == "Kind of Blue"


def test_create_catalogs_the_album_in_its_bucket_and_bumps_that_bucket_only(table):
    for rank in (123_456, 7, 8):
        assert call(create.handler, "POST", body=album_body(rank, Artist="Miles Davis"))[0] == 201

    assert stored_catalog(table) == {rank: ["kind of blue", "Miles Davis", "Jazz", 1959] for rank in (123_456, 7, 8)}
    directory = table.get_item(Key={"Rank": 0})["Item"]
    assert {name: value for name, value in directory.items() if name.startswith("v")} == {"v493": 1, "v0": 2}


def test_a_taken_rank_is_409_rank_taken_and_the_first_album_is_kept(table):
    assert call(create.handler, "POST", body=album_body(5, Album="First"))[0] == 201

    status, body, _ = call(create.handler, "POST", body=album_body(5, Album="Second"))

    assert status == 409
    assert body["error"]["code"] == "rank_taken"
    assert table.get_item(Key={"Rank": 5})["Item"]["Album"] == "First"
    assert stored_catalog(table)[5][0] == "first"  # the loser's transaction wrote nothing


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (album_body(0), "Rank"),
        (album_body(Year=1800), "Year"),
        (album_body(Genre=""), "Genre"),
        (album_body(Artist="a\u0007b"), "Artist"),
        ({**album_body(), "version": 1}, "version"),
        ({"Album": "Only a title"}, "Rank"),
    ],
)
def test_invalid_album_is_400_naming_the_field_and_nothing_is_written(table, body, field):
    status, response, _ = call(create.handler, "POST", body=body)

    assert status == 400
    assert response["error"]["code"] == "validation_error"
    assert field in response["error"]["fields"]
    assert table.scan()["Items"] == []


@pytest.mark.parametrize("raw", ["{not json", "[]", '"text"', "null"])
def test_malformed_or_non_object_body_is_400_on_body(table, raw):
    status, response, _ = call(create.handler, "POST", raw_body=raw)

    assert status == 400
    assert list(response["error"]["fields"]) == ["body"]


def test_missing_body_is_400(table):
    status, response, _ = call(create.handler, "POST")
    assert (status, response["error"]["fields"]) == (400, {"body": "is required (a JSON object)"})


def test_without_authorizer_claims_it_is_401(table):
    status, response, _ = call(create.handler, "POST", body=album_body(), claims=None)
    assert (status, response["error"]["code"]) == (401, "unauthorized")
    status, _, _ = call(create.handler, "POST", body=album_body(), claims={"email": "x@example.test"})
    assert status == 401
    assert table.scan()["Items"] == []
