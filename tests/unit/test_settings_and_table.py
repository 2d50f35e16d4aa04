"""Settings read once at cold start, the table definition the bootstrap uses, item mapping, seeding."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest

from albums import domain
from albums import table as albums_table
from albums.domain import InvalidAlbum
from albums.settings import ConfigurationError, Settings, load_settings

from .factory import album_body


def test_settings_from_the_environment():
    assert load_settings({"ALBUMS_TABLE": "Albums"}) == Settings("Albums", "*", "INFO")
    assert load_settings({"ALBUMS_TABLE": "T", "CORS_ALLOW_ORIGIN": "https://x.test", "LOG_LEVEL": "debug"}) == (
        Settings("T", "https://x.test", "DEBUG")
    )


@pytest.mark.parametrize("environ", [{}, {"ALBUMS_TABLE": ""}, {"ALBUMS_TABLE": "  "}])
def test_missing_table_name_is_a_clear_configuration_error(environ):
    with pytest.raises(ConfigurationError, match="ALBUMS_TABLE is not set"):
        load_settings(environ)


def test_bad_log_level_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="LOG_LEVEL"):
        load_settings({"ALBUMS_TABLE": "T", "LOG_LEVEL": "LOUD"})


def test_settings_are_immutable():
    with pytest.raises(AttributeError):
        load_settings({"ALBUMS_TABLE": "T"}).table_name = "other"  # type: ignore[misc]


def test_an_entry_point_without_albums_table_fails_at_import_cold_start():
    environ = {k: v for k, v in os.environ.items() if k != "ALBUMS_TABLE"}
    result = subprocess.run(
        [sys.executable, "-c", "import albums.handlers.get"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "ConfigurationError: ALBUMS_TABLE is not set" in result.stderr


def test_table_definition_creates_the_table_and_index(table):
    description = boto3.client("dynamodb").describe_table(TableName=table.name)["Table"]
    assert description["KeySchema"] == [{"AttributeName": "Rank", "KeyType": "HASH"}]
    (index,) = description["GlobalSecondaryIndexes"]
    assert index["IndexName"] == albums_table.GSI_NAME == "ByRankBucket"
    assert index["KeySchema"] == [
        {"AttributeName": "RankBucket", "KeyType": "HASH"},
        {"AttributeName": "Rank", "KeyType": "RANGE"},
    ]


def test_stored_item_adds_the_rank_bucket_and_maps_back():
    album = domain.Album(123_456, "T", "A", "G", 2000, 3, "c", "u", "cb", "ub")
    item = albums_table.album_item(album)
    assert item["RankBucket"] == 123_456 // albums_table.BUCKET_SIZE == albums_table.rank_bucket(123_456)
    assert albums_table.album_from_item(item) == album
    size = albums_table.BUCKET_SIZE
    assert albums_table.rank_bucket(size - 1) == 0 and albums_table.rank_bucket(size) == 1
    assert albums_table.rank_bucket(1_000_000) == 1_000_000 // size


def test_seed_albums_writes_items_buckets_and_directory(table):
    rows = [album_body(rank, Album=f"Album {rank}") for rank in (1, 2, 1500, 999_999)]

    written = albums_table.seed_albums(table, rows)

    assert written == 4
    counts = {f"b{albums_table.rank_bucket(r)}": n for r, n in ((1, 2), (1500, 1), (999_999, 1))}
    assert table.get_item(Key={"Rank": 0})["Item"] == {"Rank": 0, **counts}
    item = table.get_item(Key={"Rank": 1500})["Item"]
    assert (item["RankBucket"], item["version"], item["createdBy"]) == (albums_table.rank_bucket(1500), 1, "seed")


def test_seed_albums_validates_everything_before_writing(table):
    rows = [album_body(1), album_body(2, Year=1800), album_body(1), {"Rank": 3}]
    with pytest.raises(InvalidAlbum) as caught:
        albums_table.seed_albums(table, rows)
    assert caught.value.fields["row 2 Year"].startswith("must be an integer between 1900")
    assert caught.value.fields["row 3 Rank"] == "repeats the rank of row 1"
    assert caught.value.fields["row 4 Album"] == "is required"
    assert table.scan()["Items"] == []


def test_seed_in_chunks_counts_every_bucket(table):
    from albums.repository import AlbumRepository

    albums = [domain.NewAlbum(rank, "T", "A", "G", 1999) for rank in [*range(1, 5001, 250), 2, 3]]
    assert AlbumRepository(table).put_many(albums, chunk_size=3) == 22
    directory = table.get_item(Key={"Rank": 0})["Item"]
    assert directory == {"Rank": 0, "b0": 3, **{f"b{bucket}": 1 for bucket in range(1, 20)}}
    assert albums_table.occupied_buckets(directory) == list(range(20))


def test_counts_of_many_buckets_are_split_into_small_updates(table, monkeypatch):
    from albums.repository import AlbumRepository

    repo = AlbumRepository(table)
    expressions: list[str] = []
    real = table.update_item

    def spy(**kwargs):
        expressions.append(kwargs["UpdateExpression"])
        return real(**kwargs)

    monkeypatch.setattr(table, "update_item", spy)
    albums = [domain.NewAlbum(rank, "T", "A", "G", 1999) for rank in range(1, 1_000_000, 2_000)]  # 500 buckets

    assert repo.put_many(albums) == 500

    assert len(expressions) > 1 and max(map(len, expressions)) < 4096  # DynamoDB's limit for an expression
    directory = table.get_item(Key={"Rank": 0})["Item"]
    assert albums_table.occupied_buckets(directory) == [albums_table.rank_bucket(a.rank) for a in albums]


def test_occupied_buckets_reads_only_positive_counts():
    directory = {"Rank": 0, "b12": 1, "b3": 2, "b4": 0, "b5": -1, "buckets": {7}, "bx": 1, "b": 1}
    assert albums_table.occupied_buckets(directory) == [3, 12]
    assert albums_table.bucket_count_attribute(12) == "b12"
