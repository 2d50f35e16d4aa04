"""GET /album/stats (albums-stats): the whole collection's counts, from the catalog alone, for any signed-in user.
The computation in depth (grouping, ties, absent values): test_catalog.py; the token kinds: test_authorization.py."""

from __future__ import annotations

from typing import Any

import pytest

from albums import repository
from albums.handlers import create, delete, stats, update
from albums.table import BUCKET_SIZE, DIRECTORY_RANK, catalog_rank

from .factory import album_body, call, id_token_claims


@pytest.fixture
def reads(table, monkeypatch) -> list[tuple[str, list[int]]]:
    """Every DynamoDB read of the functions' repository from now on: (operation, the Ranks it asked for)."""
    client = repository.default_repository()._client
    seen: list[tuple[str, list[int]]] = []

    def spy(name: str) -> None:
        real = getattr(client, name)

        def read(**kwargs: Any) -> Any:
            if name == "get_item":
                seen.append(("GetItem", [kwargs["Key"]["Rank"]]))
            else:
                (wanted,) = kwargs["RequestItems"].values()
                seen.append(("BatchGetItem", [key["Rank"] for key in wanted["Keys"]]))
            return real(**kwargs)

        monkeypatch.setattr(client, name, read)

    # The repository reads the directory through the Table resource, whose get_item goes through this same client.
    spy("get_item")
    spy("batch_get_item")
    return seen


def test_the_stats_count_the_whole_collection_and_show_names_as_written(table):
    for rank, artist, genre, year in [(1, "The Beatles", "Rock", 1967), (2, "the beatles", "rock", 1965),
                                      (600, "Nina Simone", "Jazz", 1958), (70_000, "Nina Simone", "Jazz", 1965)]:
        assert call(create.handler, "POST", body=album_body(rank, Artist=artist, Genre=genre, Year=year))[0] == 201

    status, body, headers = call(stats.handler, "GET", claims=id_token_claims(groups=None))  # a reader

    assert status == 200 and headers["Content-Type"] == "application/json"
    assert body == {
        "total": 4,
        "genres": [{"genre": "Jazz", "count": 2}, {"genre": "Rock", "count": 2}],
        "decades": [{"decade": 1950, "count": 1}, {"decade": 1960, "count": 3}],
        "topArtists": [{"artist": "Nina Simone", "count": 2}, {"artist": "The Beatles", "count": 2}],
    }


def test_an_empty_collection_answers_zeros(table):
    status, body, _ = call(stats.handler, "GET")
    assert (status, body) == (200, {"total": 0, "genres": [], "decades": [], "topArtists": []})


def test_the_stats_read_no_album_only_the_directory_and_the_buckets_that_changed(table, reads):
    ranks = [1, 300, 5_000]
    for rank in ranks:
        assert call(create.handler, "POST", body=album_body(rank))[0] == 201
    assert call(stats.handler, "GET")[0] == 200  # warm: every bucket read once
    reads.clear()

    # WHEN nothing changed, THEN one read of the directory
    assert call(stats.handler, "GET")[1]["total"] == 3
    assert reads == [("GetItem", [DIRECTORY_RANK])]

    # WHEN one album changes and another is deleted, THEN the directory and those two buckets' catalog items
    reads.clear()
    assert call(update.handler, "PUT", {"rank": "300"}, {"Genre": "Bebop", "version": 1})[0] == 200
    assert call(delete.handler, "DELETE", {"rank": "5000"})[0] == 204
    reads.clear()  # (the writes' own reads)
    status, body, _ = call(stats.handler, "GET")
    assert status == 200 and body["total"] == 2
    assert body["genres"] == [{"genre": "Bebop", "count": 1}, {"genre": "Jazz", "count": 1}]
    assert [operation for operation, _ in reads] == ["GetItem", "BatchGetItem"]
    assert sorted(reads[1][1]) == sorted(catalog_rank(rank // BUCKET_SIZE) for rank in (300, 5_000))
    assert all(rank <= DIRECTORY_RANK for _, keys in reads for rank in keys)  # no album was read
