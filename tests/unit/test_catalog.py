"""The in-memory catalog (albums.catalog) and the search normalisation (albums.domain): pure logic, no AWS."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albums.catalog import Catalog, Entry, decode_page_token, encode_page_token, entry_of, position
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
    entry = Entry(12, ("t", "the beatles", "rock", 1967, ""))
    token = encode_page_token(request, entry)

    assert decode_page_token(token, request) == position("Artist", True, "the beatles", 12)
    with pytest.raises(InvalidRequest) as caught:
        decode_page_token(token, PageRequest(limit=5, next_token=None, words=("rock",), sort="Artist"))
    assert "another search" in caught.value.fields["nextToken"]


entries = st.builds(
    Entry,
    rank=st.integers(1, 2_000),
    keys=st.tuples(  # in the order of albums.catalog.KEYS: Album, Artist, Genre, Year, Label ("" = none)
        st.sampled_from(["a", "ab", "b", "abc", ""]), st.sampled_from(["x", "y"]), st.just("g"),
        st.integers(1950, 1960), st.sampled_from(["", "stax", "atlantic"])),
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
