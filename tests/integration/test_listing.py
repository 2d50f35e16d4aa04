"""Listings over the whole collection through API Gateway: search, every sort in both orders, totals, decade counts
and walks under concurrent writes. The expected answers are computed here from data/albums.csv (the seed).

Other tests of the suite create albums above rank 500 while these run, so an answer is checked exactly on the
seeded albums and for consistency (totals, decades) on everything it lists."""

from __future__ import annotations

import csv
import itertools
import secrets
import threading
import unicodedata
from collections import Counter
from typing import Any

import pytest

from bootstrap.access import ROOT, outputs
from tests.clients import Api
from tests.integration.conftest import album

SEED = [
    {**row, "Rank": int(row["Rank"]), "Year": int(row["Year"])}
    for row in csv.DictReader((ROOT / "data" / "albums.csv").open(encoding="utf-8"))
]
FIELDS = ("Rank", "Album", "Artist", "Genre", "Year")


def plain(text: str) -> str:
    """What a person means by the text: no case, accents or punctuation (written out here, not imported)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() or c.isspace() else "" for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())


def walk(api: Api, limit: int = 100, **query: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    albums, pages, token = [], [], None
    while True:
        response = api.get(limit=limit, **query, **({"nextToken": token} if token else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        albums += page["items"]
        pages.append(page)
        if (token := page["nextToken"]) is None:
            return albums, pages
        assert len(pages) < 200, "the walk does not end"


def seed_order(field: str, descending: bool, rows: list[dict[str, Any]] = SEED) -> list[int]:
    by_rank = sorted(rows, key=lambda row: row["Rank"])
    if field == "Rank":
        ordered = list(reversed(by_rank)) if descending else by_rank
    else:
        def key(row):
            return row[field] if field == "Year" else plain(row[field])
        ordered = sorted(by_rank, key=key, reverse=descending)  # stable: ties keep ascending Rank
    return [row["Rank"] for row in ordered]


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("field", FIELDS)
def test_every_sort_in_both_orders_walks_every_album_once_in_order(api: Api, field: str, order: str) -> None:
    albums, pages = walk(api, sort=field, order=order)

    ranks = [a["Rank"] for a in albums]
    assert len(ranks) == len(set(ranks))
    assert [rank for rank in ranks if rank <= 500] == seed_order(field, order == "desc")
    # (start is the page's place in the result at the time of its request: other tests add albums meanwhile)
    assert pages[0]["total"] >= 500 and pages[0]["start"] == 0
    assert all(later["start"] >= earlier["start"] for earlier, later in itertools.pairwise(pages))


def test_year_newest_first_starts_with_the_newest_seeded_album(api: Api) -> None:
    first = api.get(sort="Year", order="desc", limit=5).json()["items"]
    newest = max(row["Year"] for row in SEED)
    assert newest == 2011 and next(a["Year"] for a in first if a["Rank"] <= 500) == 2011


@pytest.mark.parametrize(
    ("search", "words"),
    [
        ("kanye", ["kanye"]),
        ("dylan", ["dylan"]),
        ("Dylan 1966", ["dylan", "1966"]),
        ("chateau", ["chateau"]),
        ("sgt pepper", ["sgt", "pepper"]),
        ("SGT. PEPPER'S", ["sgt", "peppers"]),
        ("hip hop", ["hip", "hop"]),
    ],
)
def test_search_finds_every_seeded_album_with_every_word(api: Api, search: str, words: list[str]) -> None:
    def matches(row: dict[str, Any]) -> bool:
        text = "\n".join(plain(str(row[field])) for field in ("Album", "Artist", "Genre", "Year"))
        return all(word in text for word in words)

    expected = {row["Rank"] for row in SEED if matches(row)}
    albums, pages = walk(api, limit=7, q=search)

    assert expected and {a["Rank"] for a in albums if a["Rank"] <= 500} == expected
    assert all(matches(a) for a in albums)  # nothing else either, test albums included
    assert pages[0]["total"] == len(albums)
    decades = Counter(a["Year"] // 10 * 10 for a in albums)
    assert pages[0]["decades"] == [{"decade": d, "count": decades[d]} for d in sorted(decades)]


def test_kanye_finds_his_three_albums_and_dylan_his_eleven(api: Api) -> None:
    kanye = api.get(q="kanye").json()
    assert sorted(a["Rank"] for a in kanye["items"]) == [118, 298, 353] and kanye["total"] == 3
    dylan_seed = [row for row in SEED if row["Artist"] == "Bob Dylan"]
    dylan = [a for a in walk(api, q="dylan")[0] if a["Artist"] == "Bob Dylan" and a["Rank"] <= 500]
    assert len(dylan) == len(dylan_seed) >= 10


def test_the_decades_without_a_search_count_the_whole_collection(api: Api) -> None:
    _albums, pages = walk(api)
    counted = {entry["decade"]: entry["count"] for entry in pages[0]["decades"]}
    seeded = Counter(row["Year"] // 10 * 10 for row in SEED)
    assert all(counted.get(decade, 0) >= n for decade, n in seeded.items())
    assert sum(counted.values()) == pages[0]["total"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"sort": "Title"}, "sort"), ({"order": "sideways"}, "order"), ({"q": "x" * 101}, "q")],
)
def test_bad_listing_parameters_are_400_naming_the_parameter(api: Api, query: dict, field: str) -> None:
    response = api.get(**query)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert response.headers["Access-Control-Allow-Origin"] == outputs()["SiteOrigin"]


def test_a_token_of_another_query_is_400(api: Api) -> None:
    token = api.get(sort="Album", limit=3).json()["nextToken"]
    response = api.get(sort="Artist", limit=3, nextToken=token)
    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["nextToken"])


def test_a_sorted_walk_under_concurrent_writes_sees_every_untouched_album_exactly_once(api: Api) -> None:
    base = 900_000 + secrets.randbelow(90_000)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        other = Api(None)
        other.http.headers.update(api.http.headers)
        n = 0
        while not stop.is_set() and n < 200:
            rank = base + n % 20
            if other.post(album(rank, Album=f"Aaa concurrent {n}")).status_code == 201:
                written.append(rank)
            other.delete(base + (n + 7) % 20)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        albums, _ = walk(api, limit=25, sort="Album")
    finally:
        stop.set()
        thread.join(timeout=60)
        for rank in range(base, base + 20):
            api.delete(rank)

    seen = Counter(a["Rank"] for a in albums)
    assert written, "the writer wrote nothing during the walk"
    assert all(seen[rank] == 1 for rank in range(1, 501))


def test_a_record_written_by_another_tool_is_skipped_counted_and_answered_clearly(api: Api, stack: dict) -> None:
    # GIVEN an item at a rank, written straight to the table by another tool: no Album, Year as a string
    from bootstrap.access import client

    rank = 990_000 + secrets.randbelow(9_000)
    assert api.post(album(rank, Album="Soon broken")).status_code == 201  # catalogued, as any album
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=stack["TableName"], Item={"Rank": {"N": str(rank)}, "Year": {"S": "1966"}})
    try:
        # WHEN someone lists the albums around it and asks for it
        listed = api.get(sort="Album", q="soon broken")
        one = api.get(rank=rank)
        # THEN the listing answers, leaving the record out and saying so
        assert listed.status_code == 200
        assert (listed.json()["items"], listed.json()["skipped"]) == ([], 1)
        # AND the record's own rank is a clear 409 with CORS, not a 500
        assert (one.status_code, one.json()["error"]["code"]) == (409, "unreadable_album")
        assert one.headers["Access-Control-Allow-Origin"] == outputs()["SiteOrigin"]
        # AND every seeded album is still reachable
        assert {a["Rank"] for a in walk(api)[0]} >= set(range(1, 501))
    finally:
        assert api.delete(rank).status_code == 204  # and it can be removed through the API
