"""GET /album listings over the whole collection: search, every sort in both orders, totals, decade counts, paging
that never repeats or skips an album, and a warm catalog that re-reads only what changed. In-process, on moto."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albums import repository
from albums.domain import SORT_FIELDS, normalise
from albums.handlers import create, delete, get, update
from albums.table import BUCKET_SIZE
from bootstrap.seeding import seed_albums

from .factory import album_body, call

SEED = [
    {**row, "Rank": int(row["Rank"]), "Year": int(row["Year"])}
    for row in csv.DictReader((Path(__file__).parents[2] / "data" / "albums.csv").open(encoding="utf-8"))
]


@pytest.fixture(scope="module")
def _seeded_once(_albums_table):
    return _albums_table


@pytest.fixture
def seeded(_seeded_once):
    """The seed's 500 albums, loaded once per module (moto writes ~100 items/s); tests that change them reload."""
    table = _seeded_once
    intact = table.get_item(Key={"Rank": 7}).get("Item", {}).get("Album") is not None  # a test may break Rank 7
    if not intact or len(repository.default_repository().refresh_catalog()) != len(SEED):
        _empty(table)
        seed_albums(table, SEED)
    return table


def walk(limit: int = 100, **query: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page of a listing -> (all albums in order, every page body)."""
    albums, pages, token = [], [], None
    while True:
        params = {"limit": str(limit), **query, **({"nextToken": token} if token else {})}
        status, body, _ = call(get.handler, "GET", params)
        assert status == 200, body
        assert body["start"] == len(albums) + sum(page["skipped"] for page in pages)
        albums += body["items"]
        pages.append(body)
        if (token := body["nextToken"]) is None:
            return albums, pages


def expected_order(rows: list[dict[str, Any]], field: str, descending: bool) -> list[int]:
    def key(row: dict[str, Any]) -> Any:
        value = row.get(field, "")  # an absent optional field sorts as ""
        return value if isinstance(value, int) else normalise(value)

    by_rank = sorted(rows, key=lambda row: row["Rank"])
    if field == "Rank":
        return [row["Rank"] for row in (reversed(by_rank) if descending else by_rank)]
    return [row["Rank"] for row in sorted(by_rank, key=key, reverse=descending)]  # stable: ties stay by Rank


@pytest.mark.parametrize(("field", "descending"), [("Year", True), ("Artist", False)])
def test_a_sort_pages_through_all_500_with_ties_by_rank(seeded, field, descending):
    # every field and order is walked over the same 500 in test_catalog.py (in memory) and in the integration suite
    albums, pages = walk(limit=100, sort=field, order="desc" if descending else "asc")

    assert [album["Rank"] for album in albums] == expected_order(SEED, field, descending)
    assert {page["total"] for page in pages} == {500}
    assert len(pages) == 5 and pages[-1]["nextToken"] is None


def test_year_newest_first_starts_with_the_newest_album(seeded):
    status, body, _ = call(get.handler, "GET", {"sort": "Year", "order": "desc", "limit": "1"})
    assert (status, body["items"][0]["Year"], body["items"][0]["Rank"]) == (200, 2011, 381)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("KANYE west", {118, 298, 353}),
        ("chateau", {359}),
        ("sgt. pepper's", {1}),
        ("zzzz nothing", set()),
    ],
)
def test_search_matches_every_word_ignoring_case_accents_and_punctuation(seeded, search, expected):
    albums, pages = walk(q=search)
    assert {album["Rank"] for album in albums} == expected
    assert pages[0]["total"] == len(expected)


def test_dylan_1966_finds_dylans_albums_of_1966_and_the_count_and_decades_cover_the_whole_result(seeded):
    dylan = [row for row in SEED if "dylan" in normalise(f"{row['Album']} {row['Artist']} {row['Genre']}")]
    status, body, _ = call(get.handler, "GET", {"q": "dylan", "limit": "2"})

    assert (status, body["total"], len(body["items"])) == (200, len(dylan), 2)
    decades = Counter(row["Year"] // 10 * 10 for row in dylan)
    assert body["decades"] == [{"decade": decade, "count": decades[decade]} for decade in sorted(decades)]

    albums, _ = walk(q="dylan 1966")
    assert {album["Rank"] for album in albums} == {row["Rank"] for row in dylan if row["Year"] == 1966}


def test_without_a_search_the_decades_count_the_whole_collection(seeded):
    _, body, _ = call(get.handler, "GET", {"limit": "1"})
    decades = Counter(row["Year"] // 10 * 10 for row in SEED)
    assert body["decades"] == [{"decade": decade, "count": decades[decade]} for decade in sorted(decades)]
    assert sum(entry["count"] for entry in body["decades"]) == body["total"] == 500


def test_an_accented_artist_is_found_without_accents_and_sorted_among_the_plain_ones(table):
    for rank, artist in ((1, "Beyoncé"), (2, "Bjork"), (3, "Beyonce Tribute"), (4, "Abba")):
        assert call(create.handler, "POST", body=album_body(rank, Artist=artist))[0] == 201

    found, _ = walk(q="beyonce")
    by_artist, _ = walk(sort="Artist")

    assert [album["Rank"] for album in found] == [1, 3]
    assert [album["Artist"] for album in by_artist] == ["Abba", "Beyoncé", "Beyonce Tribute", "Bjork"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "Title"}, "sort"),
        ({"sort": "rank"}, "sort"),
        ({"order": "up"}, "order"),
        ({"q": "x" * 101}, "q"),
        ({"q": " ".join("abcdefghij")}, "q"),
    ],
)
def test_bad_listing_parameters_are_400_naming_the_parameter(table, query, field):
    status, body, _ = call(get.handler, "GET", query)
    assert (status, list(body["error"]["fields"])) == (400, [field])


def test_a_token_from_another_search_or_order_is_400(seeded):
    _, body, _ = call(get.handler, "GET", {"sort": "Year", "limit": "5"})
    for other in ({"sort": "Album"}, {"sort": "Year", "order": "desc"}, {"sort": "Year", "q": "rock"}):
        status, error, _ = call(get.handler, "GET", {**other, "nextToken": body["nextToken"]})
        assert (status, list(error["error"]["fields"])) == (400, ["nextToken"])
        assert "another search or sort" in error["error"]["fields"]["nextToken"]


def test_a_read_writes_nothing(seeded):
    client = repository.default_repository()._client
    operations: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name), "spy")
    try:
        walk(q="rock", sort="Genre", order="desc")
        call(get.handler, "GET", {"rank": "5"})
    finally:
        client.meta.events.unregister("before-call.dynamodb", unique_id="spy")
    assert set(operations) == {"GetItem", "BatchGetItem"}


def test_a_warm_listing_rereads_only_the_buckets_that_changed(table, monkeypatch):
    ranks = [1, 300, 600, 5_000, 777_777]
    for rank in ranks:
        assert call(create.handler, "POST", body=album_body(rank))[0] == 201
    walk()  # warm: every bucket read once
    client = repository.default_repository()._client
    keys_read: list[list[int]] = []
    real = client.batch_get_item

    def spy(**kwargs):
        keys_read.append([key["Rank"] for key in next(iter(kwargs["RequestItems"].values()))["Keys"]])
        return real(**kwargs)

    monkeypatch.setattr(client, "batch_get_item", spy)

    walk()
    assert keys_read == [[0, *ranks]]  # nothing changed: one read of the directory and the page's albums

    keys_read.clear()
    assert call(update.handler, "PUT", {"rank": "600"}, {"Album": "Renamed", "version": 1})[0] == 200
    albums, _ = walk(q="renamed")
    # the directory says bucket 2 changed: its catalog item, then the album the new answer needs
    assert keys_read == [[0], [-1 - 600 // BUCKET_SIZE], [600]] and albums[0]["Album"] == "Renamed"


def test_an_unreadable_record_is_skipped_and_counted_and_its_rank_answers_a_clear_409(seeded):
    seeded.put_item(Item={"Rank": 7, "Year": "1966", "Artist": "another tool"})  # not an album of ours

    albums, pages = walk(limit=50)
    status, body, _ = call(get.handler, "GET", {"rank": "7"})

    assert [album["Rank"] for album in albums] == [rank for rank in range(1, 501) if rank != 7]
    assert [page["skipped"] for page in pages] == [1] + [0] * 9
    assert (status, body["error"]["code"]) == (409, "unreadable_album")
    assert "Album is missing" in body["error"]["message"]
    assert call(delete.handler, "DELETE", {"rank": "7"})[0] == 204  # and it can be removed
    assert pages[0]["total"] == 500 and walk()[1][0]["total"] == 499


# --- a walk under concurrent writes -------------------------------------------------------------------------------

RANKS = st.integers(min_value=1, max_value=4 * BUCKET_SIZE)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.sets(RANKS, min_size=1, max_size=40),
    writes=st.lists(st.tuples(st.sampled_from(["create", "delete", "rename"]), RANKS), max_size=30),
    field=st.sampled_from(SORT_FIELDS),
    descending=st.booleans(),
    limit=st.integers(min_value=1, max_value=7),
)
def test_a_walk_never_repeats_or_skips_an_album_that_existed_unchanged_throughout(table, start, writes, field,
                                                                                  descending, limit):
    _empty(table)
    for rank in start:
        body = album_body(rank, Album=f"Album {rank % 17}", Artist=f"Artist {rank % 5}", Year=1960 + rank % 40)
        assert call(create.handler, "POST", body=body)[0] == 201
    untouched = set(start) - {rank for _, rank in writes}
    pending = list(writes)
    seen: list[int] = []
    token = None
    query = {"sort": field, "order": "desc" if descending else "asc", "limit": str(limit)}
    while True:
        status, body, _ = call(get.handler, "GET", {**query, **({"nextToken": token} if token else {})})
        assert status == 200
        seen += [album["Rank"] for album in body["items"]]
        if (token := body["nextToken"]) is None:
            break
        if pending:  # someone writes between two pages
            action, rank = pending.pop(0)
            if action == "create":
                call(create.handler, "POST", body=album_body(rank, Album="New", Year=2000))
            elif action == "delete":
                call(delete.handler, "DELETE", {"rank": str(rank)})
            else:
                current = call(get.handler, "GET", {"rank": str(rank)})[1]
                if "version" in current:
                    call(update.handler, "PUT", {"rank": str(rank)}, {"Album": "Zz", "version": current["version"]})

    assert all(seen.count(rank) == 1 for rank in untouched)
    renamed = {rank for action, rank in writes if action == "rename"}
    assert {rank for rank, n in Counter(seen).items() if n > 1} <= renamed  # only a moved album can come twice


def _empty(table: Any) -> None:
    with table.batch_writer() as batch:
        for key in table.scan(ProjectionExpression="#r", ExpressionAttributeNames={"#r": "Rank"})["Items"]:
            batch.delete_item(Key=key)
