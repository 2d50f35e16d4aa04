"""The in-memory catalog (albums.catalog) and the search normalisation (albums.domain): pure logic, no AWS."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albums.catalog import (
    KEYS,
    Catalog,
    Entry,
    decode_page_token,
    encode_page_token,
    entry_from_stored,
    entry_of,
    position,
)
from albums.domain import (
    SORT_FIELDS,
    Album,
    InvalidRequest,
    PageRequest,
    normalise,
    parse_page_request,
    search_words,
)

from .test_listing import SEED, expected_order


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Beyoncé", "beyonce"),
        ("Honky Château", "honky chateau"),
        ("Sgt. Pepper's Lonely Hearts Club Band", "sgt peppers lonely hearts club band"),
        ("AC/DC", "acdc"),
        ("  Straße\tder  Ölsardinen ", "strasse der olsardinen"),
        ("\uff21\uff22\uff23 \ufb01ve", "abc five"),  # full-width letters and ligatures fold to their plain forms
        ("Guns N' Roses", "guns n roses"),
        ("!!!", ""),
        ("Björk — Homogenic (1997)", "bjork homogenic 1997"),
    ],
)
def test_normalise_ignores_case_accents_and_punctuation(text, normalised):
    assert normalise(text) == normalised


def test_search_words_are_normalised_and_deduplicated_in_order():
    assert search_words("  Dylan, DYLAN 1966!") == ("dylan", "1966")
    assert search_words("") == ()


def _catalog(rows=SEED) -> Catalog:
    catalog = Catalog()
    by_bucket: dict[int, dict[int, Entry]] = {}
    for row in rows:
        entry = entry_of(Album(values=row, version=1, created_at="", updated_at="", created_by="", updated_by=""))
        by_bucket.setdefault(row["Rank"] // 250, {})[row["Rank"]] = entry
    catalog.replace_buckets({bucket: (entries, 1) for bucket, entries in by_bucket.items()})
    return catalog


def _walk(catalog: Catalog, limit: int, **query: str) -> list[int]:
    ranks: list[int] = []
    token = None
    while True:
        request = parse_page_request({"limit": str(limit), **query, **({"nextToken": token} if token else {})})
        selection = catalog.select(request)
        assert selection.start == len(ranks)
        ranks += selection.ranks
        if (token := selection.next_token) is None:
            return ranks


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("field", SORT_FIELDS)
def test_every_sort_in_both_orders_walks_all_500_once_with_ties_by_rank(field, order):
    assert _walk(_catalog(), 70, sort=field, order=order) == expected_order(SEED, field, order == "desc")


def test_totals_and_decades_count_the_whole_result_not_the_page():
    selection = _catalog().select(parse_page_request({"q": "rock", "limit": "3"}))
    rock = [row for row in SEED if "rock" in normalise(f"{row['Album']}\n{row['Artist']}\n{row['Genre']}")]
    decades = Counter(row["Year"] // 10 * 10 for row in rock)
    assert (len(selection.ranks), selection.total) == (3, len(rock))
    assert selection.decades == [{"decade": d, "count": decades[d]} for d in sorted(decades)]


def test_descending_text_positions_order_longer_texts_first_when_one_is_a_prefix():
    assert position("Album", True, "abc", 9) < position("Album", True, "ab", 1)
    assert position("Album", True, "b", 9) < position("Album", True, "a", 1)
    assert position("Album", True, "a", 1) < position("Album", True, "a", 2)  # ties by ascending Rank
    assert position("Year", True, 2000, 5) < position("Year", True, 1999, 1)
    assert position("Rank", True, 7, 7) < position("Rank", True, 3, 3)


def test_a_token_names_its_place_and_belongs_to_its_query_only():
    request = PageRequest(limit=5, next_token=None, words=("rock",), sort="Artist", descending=True)
    entry = Entry(12, ("t", "the beatles", "rock", 1967, ""), ("The Beatles", "Rock"))
    token = encode_page_token(request, entry)

    assert decode_page_token(token, request) == position("Artist", True, "the beatles", 12)
    with pytest.raises(InvalidRequest) as caught:
        decode_page_token(token, PageRequest(limit=5, next_token=None, words=("rock",), sort="Artist"))
    assert "another search" in caught.value.fields["nextToken"]


entries = st.builds(
    Entry,
    rank=st.integers(1, 2_000),
    keys=st.tuples(  # in the order of albums.catalog.KEY_FIELDS: Album, Artist, Genre, Year, Label ("" = none)
        st.sampled_from(["a", "ab", "b", "abc", ""]), st.sampled_from(["x", "y"]), st.just("g"),
        st.integers(1950, 1960), st.sampled_from(["", "stax", "atlantic"])),
    shown=st.tuples(st.sampled_from(["X", "x"]), st.just("G")),  # Artist, Genre as written
)


@settings(max_examples=60, deadline=None)
@given(first=st.lists(entries, max_size=30), second=st.lists(entries, max_size=30),
       field=st.sampled_from(SORT_FIELDS), descending=st.booleans())
def test_orders_kept_up_to_date_in_place_equal_a_fresh_sort(first, second, field, descending):
    catalog = Catalog()

    def load(batch, version, forget_empty=False):
        """Every bucket at once; with forget_empty, a bucket left without entries is forgotten (its item gone)."""
        by_bucket: dict[int, dict[int, Entry]] = {bucket: {} for bucket in range(9)}
        for entry in batch:
            by_bucket[entry.rank // 250][entry.rank] = entry
        catalog.replace_buckets({bucket: (bucket_entries, None if forget_empty and not bucket_entries else version)
                                 for bucket, bucket_entries in by_bucket.items()})

    load(first, 1)
    catalog.ordered(field, descending)  # cached now: the next load updates it in place
    load(first[: len(first) // 2] + second, 2, forget_empty=True)  # some entries kept, some changed, some gone

    fresh = Catalog()
    fresh.versions, fresh._buckets = catalog.versions, catalog._buckets
    assert catalog.ordered(field, descending) == fresh.ordered(field, descending)


# --- the collection's stats (GET /album/stats) ---------------------------------------------------------------------


def _album(rank: int, **values: object) -> Album:
    row = {"Rank": rank, "Album": f"Album {rank}", "Artist": "Someone", "Genre": "Rock", "Year": 1970, **values}
    return Album(values=row, version=1, created_at="", updated_at="", created_by="", updated_by="")


def _catalog_of(albums: list[Album]) -> Catalog:
    """As a warm function holds it: every entry read back from its stored form."""
    catalog = Catalog()
    buckets: dict[int, dict[int, Entry]] = {}
    for album in albums:
        buckets.setdefault(album.rank // 250, {})[album.rank] = entry_from_stored(album.rank, entry_of(album).stored())
    catalog.replace_buckets({bucket: (entries, 1) for bucket, entries in buckets.items()})
    return catalog


def test_stats_of_the_seed_count_every_genre_decade_and_the_ten_artists_with_the_most_albums():
    stats = _catalog().stats().to_json()

    # Counted independently: grouped by the normalised name, most albums first, ties by the normalised name.
    def expected(field: str, label: str) -> list[dict[str, object]]:
        groups = Counter(normalise(row[field]) for row in SEED)
        shown = {normalise(row[field]): row[field] for row in SEED}  # the seed spells each name one way
        ranked = sorted(groups.items(), key=lambda group: (-group[1], group[0]))
        return [{label: shown[key], "count": count} for key, count in ranked]

    decades = Counter(row["Year"] // 10 * 10 for row in SEED)
    assert stats["total"] == 500
    assert stats["genres"] == expected("Genre", "genre")
    assert stats["genres"][0] == {"genre": "Rock", "count": 249} and len(stats["genres"]) == 60
    assert stats["decades"] == [{"decade": decade, "count": decades[decade]} for decade in sorted(decades)]
    assert sum(decade["count"] for decade in stats["decades"]) == 500
    assert stats["topArtists"] == expected("Artist", "artist")[:10]
    # Three artists have 10 albums, six have 5: ties in the order of the normalised names, the sixth at 5 left out.
    assert [artist["artist"] for artist in stats["topArtists"]] == [
        "Bob Dylan", "The Beatles", "The Rolling Stones", "Bruce Springsteen", "The Who",
        "David Bowie", "Elton John", "Led Zeppelin", "Radiohead", "U2"]
    assert stats["topArtists"][-1] == {"artist": "U2", "count": 5}  # "Various Artists" (5) comes after "u2"


def test_spellings_that_normalise_alike_are_one_group_shown_as_most_of_its_albums_spell_it():
    artists = ["The Beatles", "the beatles", "THE BEATLES!", "The Beatles", "Beyoncé", "Beyonce", "BEYONCÉ"]
    albums = [_album(rank, Artist=artist, Genre=genre)
              for rank, (artist, genre) in enumerate(zip(artists, ["Rock", "rock", "Rock", "Pop", "R&B", "R & B",
                                                                   "Pop"], strict=True), start=1)]

    stats = _catalog_of(albums).stats()

    assert stats.top_artists == [{"artist": "The Beatles", "count": 4}, {"artist": "BEYONCÉ", "count": 3}]
    assert stats.genres == [{"genre": "Rock", "count": 3}, {"genre": "Pop", "count": 2}, {"genre": "R & B", "count": 1},
                            {"genre": "R&B", "count": 1}]  # "rb" and "r b" are two genres: the domain's rule
    # (BEYONCÉ, Beyoncé and Beyonce once each: a tie of spellings shows the first in code-point order.)


def test_ties_are_ordered_by_name_whatever_order_the_albums_came_in():
    names = ["Zappa", "abba", "Ásgeir", "Björk", "Can"]  # one album each: all tied
    forwards = _catalog_of([_album(rank, Artist=name) for rank, name in enumerate(names, start=1)]).stats()
    backwards = _catalog_of([_album(rank, Artist=name) for rank, name in enumerate(reversed(names), start=1)]).stats()

    assert forwards == backwards
    assert [artist["artist"] for artist in forwards.top_artists] == ["abba", "Ásgeir", "Björk", "Can", "Zappa"]


def test_only_the_ten_artists_with_the_most_albums_are_listed():
    albums = [_album(rank, Artist=f"Artist {rank % 12:02d}") for rank in range(1, 13 * 12 + 1)]
    albums += [_album(1000, Artist="Artist 11")]

    top = _catalog_of(albums).stats().top_artists

    assert len(top) == 10 and top[0] == {"artist": "Artist 11", "count": 14}
    assert [artist["count"] for artist in top[1:]] == [13] * 9
    assert [artist["artist"] for artist in top[1:]] == [f"Artist {n:02d}" for n in range(9)]


def test_absent_values_are_in_no_group_and_a_name_of_punctuation_only_is_a_group_of_its_own():
    # GIVEN albums without a Label (every seed album), one "!!!" twice and one "???", and an entry stored with its
    # album's keys only (as by a tool before the grouped columns; no artist, genre or year)
    albums = [_album(1, Artist="!!!"), _album(2, Artist="!!!"), _album(3, Artist="???", Genre="Punk", Year=2001)]
    catalog = _catalog_of(albums)
    catalog.replace_buckets({1: ({250: entry_from_stored(250, "only an album")}, 1)})

    stats = catalog.stats()

    assert stats.total == 4
    assert stats.top_artists == [{"artist": "!!!", "count": 2}, {"artist": "???", "count": 1}]
    assert stats.genres == [{"genre": "Rock", "count": 2}, {"genre": "Punk", "count": 1}]
    assert stats.decades == [{"decade": 1970, "count": 2}, {"decade": 2000, "count": 1}]
    assert "label" not in str(stats.to_json()).lower()


def test_an_empty_collection_has_empty_stats():
    assert Catalog().stats().to_json() == {"total": 0, "genres": [], "decades": [], "topArtists": []}


def test_the_stats_follow_every_change_of_the_catalog_and_are_computed_once_per_state():
    catalog = _catalog_of([_album(1, Artist="the who"), _album(2, Artist="The Who")])
    first = catalog.stats()
    assert catalog.stats() is first  # kept while nothing changed
    assert first.top_artists == [{"artist": "The Who", "count": 2}]  # (a tie of spellings: "T" before "t")

    # WHEN only a spelling changes (the same group), THEN the name shown follows it
    changed = {1: entry_from_stored(1, entry_of(_album(1, Artist="THE WHO")).stored()),
               2: entry_from_stored(2, entry_of(_album(2, Artist="THE WHO", Year=1999)).stored())}
    catalog.replace_buckets({0: (changed, 2)})
    assert catalog.stats().top_artists == [{"artist": "THE WHO", "count": 2}]
    assert catalog.stats().decades == [{"decade": 1970, "count": 1}, {"decade": 1990, "count": 1}]
    # WHEN the bucket is gone, THEN so are its albums
    catalog.replace_buckets({0: ({}, None)})
    assert catalog.stats().to_json() == {"total": 0, "genres": [], "decades": [], "topArtists": []}


def test_a_stored_entry_keeps_the_grouped_fields_as_written_and_reads_back_equal():
    album = _album(7, Album="Sgt. Pepper's", Artist="The Beatles", Genre="Rock, Pop", Year=1967, Label="Parlophone")
    entry = entry_of(album)

    assert KEYS == ("Album", "Artist as written", "Genre as written", "Year", "Label")  # they name CATALOG_FORMAT
    assert entry.stored() == "sgt peppers\x1fThe Beatles\x1fRock, Pop\x1f1967\x1fparlophone"
    assert entry_from_stored(7, entry.stored()) == entry
    assert entry.value("Artist") == "the beatles" and entry.shown == ("The Beatles", "Rock, Pop")
    # An entry stored in the format before (normalised keys) reads with the same keys until the catalog is rebuilt.
    old = entry_from_stored(7, "sgt peppers\x1fthe beatles\x1frock pop\x1f1967\x1fparlophone")
    assert old.keys == entry.keys and old.shown == ("the beatles", "rock pop")
    # A text holding the separator (another tool's item) cannot shift the columns.
    odd = entry_of(_album(8, Artist="A\x1fB"))
    assert entry_from_stored(8, odd.stored()) == odd and odd.value("Artist") == "a b"
