"""Settings read once at cold start, the table definition the bootstrap uses, item mapping, seeding."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import boto3
import pytest

from albums import domain
from albums import table as albums_table
from albums.domain import InvalidRequest
from albums.settings import ConfigurationError, Settings, load_settings
from bootstrap.seeding import put_many, rebuild_catalog, seed_albums

from .factory import album_body, stored_catalog

CLIENT = {"USER_POOL_CLIENT_ID": "client-1"}


def test_settings_from_the_environment():
    assert load_settings({"ALBUMS_TABLE": "Albums", **CLIENT}) == Settings("Albums", "client-1", "*", "INFO")
    assert load_settings({"ALBUMS_TABLE": "T", "CORS_ALLOW_ORIGIN": "https://x.test", "LOG_LEVEL": "debug",
                          **CLIENT}) == Settings("T", "client-1", "https://x.test", "DEBUG")


@pytest.mark.parametrize("client_id", [None, "", "  "])
def test_missing_client_id_is_a_clear_configuration_error(client_id):
    environ = {"ALBUMS_TABLE": "T"} | ({} if client_id is None else {"USER_POOL_CLIENT_ID": client_id})
    with pytest.raises(ConfigurationError, match="USER_POOL_CLIENT_ID"):
        load_settings(environ)


@pytest.mark.parametrize("environ", [{}, {"ALBUMS_TABLE": ""}, {"ALBUMS_TABLE": "  "}])
def test_missing_table_name_is_a_clear_configuration_error(environ):
    with pytest.raises(ConfigurationError, match="ALBUMS_TABLE is not set"):
        load_settings(environ)


def test_bad_log_level_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="LOG_LEVEL"):
        load_settings({"ALBUMS_TABLE": "T", "LOG_LEVEL": "LOUD", **CLIENT})


def test_settings_are_immutable():
    with pytest.raises(AttributeError):
        load_settings({"ALBUMS_TABLE": "T", **CLIENT}).table_name = "other"  # type: ignore[misc]


def test_an_entry_point_without_albums_table_fails_at_import_cold_start():
    environ = {k: v for k, v in os.environ.items() if k != "ALBUMS_TABLE"}
    result = subprocess.run(
        [sys.executable, "-c", "import albums.handlers.get"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "ConfigurationError: ALBUMS_TABLE is not set" in result.stderr


def test_table_definition_creates_the_table_keyed_by_rank(table):
    description = boto3.client("dynamodb").describe_table(TableName=table.name)["Table"]
    assert description["KeySchema"] == [{"AttributeName": "Rank", "KeyType": "HASH"}]
    assert description.get("GlobalSecondaryIndexes", []) == []


def test_stored_item_maps_back_and_buckets_and_catalog_keys_never_collide_with_albums():
    album = _album({"Rank": 123_456, "Album": "T", "Artist": "A", "Genre": "G", "Year": 2000}, version=3)
    assert albums_table.album_from_item(albums_table.album_item(album)) == album
    labelled = _album({**album.values, "Label": "Parlophone"})
    assert albums_table.album_from_item(albums_table.album_item(labelled)) == labelled
    size = albums_table.BUCKET_SIZE
    assert albums_table.rank_bucket(size - 1) == 0 and albums_table.rank_bucket(size) == 1
    last_bucket = albums_table.rank_bucket(domain.RANK_MAX)
    keys = {albums_table.catalog_rank(bucket) for bucket in range(last_bucket + 1)}
    assert max(keys) < albums_table.DIRECTORY_RANK < domain.RANK_MIN and len(keys) == last_bucket + 1


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"Album": None}, "Album is missing"),
        ({"Year": "1969"}, "Year is not an integer"),
        ({"Year": Decimal("1969.5")}, "Year is not an integer"),
        ({"Artist": 7}, "Artist is not a text"),
        ({"Label": 7}, "Label is not a text"),  # optional: absent is fine, another type is not
    ],
)
def test_an_item_that_is_not_an_album_is_unreadable_naming_the_field(change, problem):
    item = {**albums_table.album_item(_album({"Rank": 7, "Album": "T", "Artist": "A", "Genre": "G", "Year": 2000})),
            **change}
    item = {name: value for name, value in item.items() if value is not None}
    with pytest.raises(albums_table.UnreadableItem, match=problem):
        albums_table.album_from_item(item)


def test_seed_albums_writes_albums_catalog_and_directory(table):
    rows = [album_body(rank, Album=f"Album {rank}") for rank in (1, 2, 1500, 999_999)]

    written = seed_albums(table, rows)

    assert written == 4
    assert stored_catalog(table) == {rank: [f"album {rank}", "Miles Davis", "Jazz", 1959]
                                     for rank in (1, 2, 1500, 999_999)}
    directory = table.get_item(Key={"Rank": 0})["Item"]
    assert directory["format"] == albums_table.CATALOG_FORMAT and directory["catalogId"]
    assert albums_table.bucket_versions(directory) == {0: 1, 6: 1, 3999: 1}
    item = table.get_item(Key={"Rank": 1500})["Item"]
    assert (item["version"], item["createdBy"]) == (1, "seed")


def test_seed_albums_validates_everything_before_writing(table):
    rows = [album_body(1), album_body(2, Year=1800), album_body(1), {"Rank": 3}]
    with pytest.raises(InvalidRequest) as caught:
        seed_albums(table, rows)
    assert caught.value.fields["row 2 Year"].startswith("must be an integer between 1900")
    assert caught.value.fields["row 3 Rank"] == "repeats the rank of row 1"
    assert caught.value.fields["row 4 Album"] == "is required"
    assert table.scan()["Items"] == []


def test_bulk_catalog_writes_are_split_into_small_updates(table, monkeypatch):

    expressions: list[str] = []
    real = table.update_item

    def spy(**kwargs):
        expressions.append(kwargs["UpdateExpression"])
        return real(**kwargs)

    monkeypatch.setattr(table, "update_item", spy)
    albums = [domain.NewAlbum({"Rank": rank, "Album": "T", "Artist": "A", "Genre": "G", "Year": 1999})
              for rank in range(240, 360)]  # 120 albums, 2 buckets

    assert put_many(table, albums, chunk_size=100) == 120

    assert len(expressions) > 3 and max(map(len, expressions)) < 4096  # DynamoDB's limit for an expression
    assert sorted(stored_catalog(table)) == list(range(240, 360))


def test_rebuild_catalog_catalogs_every_readable_album_and_nothing_else(table):
    seed_albums(table, [album_body(rank, Album=f"Album {rank}") for rank in (1, 2, 300)])
    table.put_item(Item={"Rank": 5, "Album": "No artist"})  # written by another tool
    table.put_item(Item={"Rank": albums_table.catalog_rank(9), "r2251": "stale\x1fx\x1fy\x1f1999"})


    assert rebuild_catalog(table) == 3
    assert sorted(stored_catalog(table)) == [1, 2, 300]


def _album(values: dict, version: int = 1) -> domain.Album:
    return domain.Album(values=values, version=version, created_at="c", updated_at="u", created_by="cb",
                        updated_by="ub")


def test_an_album_stored_before_an_optional_field_existed_reads_fine():
    """Every seeded album has no Label: absent is not unreadable."""
    item = albums_table.album_item(_album({"Rank": 9, "Album": "T", "Artist": "A", "Genre": "G", "Year": 1999}))
    assert "Label" not in item
    assert "Label" not in albums_table.album_from_item(item).values

