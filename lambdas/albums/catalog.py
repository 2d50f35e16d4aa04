"""The catalog: every album's search and sort keys, so a listing can answer for the whole collection.

DynamoDB has no index for "every word somewhere in four fields", and a GSI per sort order would need partitions that
stay small however the values are distributed (MiniStack sorts a whole partition on every Query). Instead each
album's normalised keys live in a catalog item of its rank bucket (written in the same transaction as the album, so
the catalog is exact), and the GET function keeps them in memory: a warm call reads the small directory item, re-reads
only the buckets whose version changed, and answers search, sort, totals and decade counts in memory. Only the
page's own albums are then read from the table (one BatchGetItem). The collection's stats (GET /album/stats: albums
per genre and per decade, the artists with the most albums) come from the same entries, without reading any album.

This module is the in-memory half: pure Python, no AWS calls (albums.repository does the reading and writing).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from albums.domain import FIELD, FIELDS, RANK_MAX, SEARCH_FIELDS, Album, InvalidRequest, PageRequest, normalise

SEPARATOR = "\x1f"  # between the fields of a stored entry
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,1024}")
_BAD_TOKEN = "is not a valid pagination token (pass back the nextToken of the previous page unchanged)"
_OTHER_QUERY = "belongs to another search or sort order (start again without nextToken)"


# The fields the collection's stats group albums by: spellings that normalise alike are one group ("The Beatles",
# "the beatles"), shown as the albums spell it ("The Beatles", never the normalised key).
GROUPED_FIELDS: tuple[str, ...] = ("Artist", "Genre")
TOP_ARTISTS = 10

# The fields an entry holds keys of: every sortable or searchable field but Rank (the entry's key).
KEY_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.name != "Rank" and (f.sortable or f.searchable))
# The columns of a stored entry, one per key field in the same order: the field's normalised key, but a grouped field
# as written (its key is normalised on reading; storing both made the catalog half as big again, 2.3 -> 3.5 MB at
# 50,000 albums, and every write's transaction with it). They name albums.table.CATALOG_FORMAT: any change to them
# changes it, and the next `make up` / `make deploy` rebuilds the catalog. An optional field appended at the end
# reads as absent ("") in entries stored before it.
KEYS: tuple[str, ...] = tuple(f"{name} as written" if name in GROUPED_FIELDS else name for name in KEY_FIELDS)
_KEY_INDEX = {name: index for index, name in enumerate(KEY_FIELDS)}
_SHOWN_INDEX = {name: index for index, name in enumerate(GROUPED_FIELDS)}
_NUMBERS = frozenset(name for name in KEY_FIELDS if FIELD[name].kind == "integer")
ABSENT_NUMBER = -1  # an absent optional number sorts before every real one


@dataclass(frozen=True, slots=True)
class Entry:
    """One album's keys, in the order of KEY_FIELDS: its normalised texts (see albums.domain.normalise; "" for an
    absent text) and its numbers; and its grouped fields as written, in the order of GROUPED_FIELDS."""

    rank: int
    keys: tuple[str | int, ...]
    shown: tuple[str, ...]

    def text(self) -> str:
        # "\n" cannot occur in a normalised text, so a search word never matches across two fields.
        return "\n".join(str(self.value(name)) for name in SEARCH_FIELDS)

    def value(self, field: str) -> str | int:
        return self.rank if field == "Rank" else self.keys[_KEY_INDEX[field]]

    def stored(self) -> str:
        """The value kept in the catalog item (attribute `r<rank>`): one string, the columns of KEYS joined by U+001F
        (a control character: neither a normalised text nor an album's text holds one). One string per album, rather
        than a list, makes the catalog of 50,000 albums 4x cheaper to read and decode on a cold start."""
        return SEPARATOR.join(self.shown[_SHOWN_INDEX[name]] if name in _SHOWN_INDEX else str(key)
                              for name, key in zip(KEY_FIELDS, self.keys, strict=True))


def entry_of(album: Album) -> Entry:
    keys: list[str | int] = []
    for name in KEY_FIELDS:
        value = album.values.get(name)
        if name in _NUMBERS:
            keys.append(ABSENT_NUMBER if value is None else int(value))
        else:
            keys.append("" if value is None else normalise(str(value)))
    # An item another tool wrote may hold the separator in a text: as a space (normalise reads it as one too).
    shown = tuple(str(album.values.get(name, "")).replace(SEPARATOR, " ") for name in GROUPED_FIELDS)
    return Entry(album.rank, tuple(keys), shown)


def entry_from_stored(rank: int, stored: str) -> Entry:
    columns: list[Any] = stored.split(SEPARATOR)
    if len(columns) != len(KEYS):  # stored before an optional field was appended: it is absent
        columns = (columns + [""] * len(KEYS))[: len(KEYS)]
    shown = tuple(map(columns.__getitem__, _SHOWN_AT))
    for index, read in _READ:  # in place: a cold start reads 50,000 entries, and this is the cheapest form measured
        columns[index] = read(columns[index])
    return Entry(rank, tuple(columns), shown)


def _number(column: str) -> int:
    return int(column or ABSENT_NUMBER)


# One normalisation per distinct spelling on a cold start: artists and genres repeat (the 500 seed albums have 289
# artists and 60 genres).
_key_of_written = functools.lru_cache(maxsize=65_536)(normalise)
# The stored columns that are not their own key (a number; a grouped field as written), and how each is read.
_READ: tuple[tuple[int, Callable[[str], str | int]], ...] = tuple(
    (index, _number if name in _NUMBERS else _key_of_written)
    for index, name in enumerate(KEY_FIELDS) if name in _NUMBERS or name in _SHOWN_INDEX)
_SHOWN_AT = tuple(_KEY_INDEX[name] for name in GROUPED_FIELDS)


class _Descending:
    """Wraps a text so that it sorts backwards (numbers are simply negated)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Descending) -> bool:
        return self.text > other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


Position = tuple[Any, int]


def position(sort: str, descending: bool, value: str | int, rank: int) -> Position:
    """Where an album with this sort value stands: by the value (either direction), ties always by ascending Rank."""
    if sort == "Rank":
        return (-rank if descending else rank, rank)
    if not descending:
        return (value, rank)
    return (-value if isinstance(value, int) else _Descending(value), rank)


def _position_of(sort: str, descending: bool) -> Callable[[Entry], Position]:
    return lambda entry: position(sort, descending, entry.value(sort), entry.rank)


@dataclass(frozen=True)
class Selection:
    """One page of a listing, as ranks, plus what the whole result holds."""

    ranks: list[int]
    start: int  # index of the page's first album in the whole result
    total: int
    decades: list[dict[str, int]]  # [{"decade": 1960, "count": 57}, ...] over the whole result, ascending
    next_token: str | None


@dataclass(frozen=True)
class CollectionStats:
    """What the whole collection holds (GET /album/stats, OpenAPI `AlbumStats`). A group is one normalised value
    (albums.domain.normalise: case, accents and punctuation aside), shown as most of its albums spell it (ties: the
    spelling first in code-point order). Groups come with the most albums first, ties in the order of their normalised
    values; an album without a value is in no group."""

    total: int
    genres: list[dict[str, Any]]  # [{"genre": "Rock", "count": 249}, ...], every genre
    decades: list[dict[str, int]]  # [{"decade": 1960, "count": 57}, ...], ascending
    top_artists: list[dict[str, Any]]  # [{"artist": "The Beatles", "count": 10}, ...], at most TOP_ARTISTS

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "genres": self.genres, "decades": self.decades, "topArtists": self.top_artists}


def collection_stats(entries: list[Entry]) -> CollectionStats:
    return CollectionStats(
        total=len(entries),
        genres=_groups(entries, "Genre", "genre"),
        decades=decade_counts(entries),
        top_artists=_groups(entries, "Artist", "artist")[:TOP_ARTISTS],
    )


def decade_counts(entries: Iterable[Entry]) -> list[dict[str, int]]:
    """[{"decade": 1960, "count": 57}, ...] ascending; an album without a Year counts in no decade."""
    year = _KEY_INDEX["Year"]
    counts = Counter(int(entry.keys[year]) // 10 * 10 for entry in entries if entry.keys[year] != ABSENT_NUMBER)
    return [{"decade": decade, "count": counts[decade]} for decade in sorted(counts)]


def _groups(entries: list[Entry], field: str, label: str) -> list[dict[str, Any]]:
    key_at, shown_at = _KEY_INDEX[field], _SHOWN_INDEX[field]
    spellings: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (key, spelling), count in Counter((entry.keys[key_at], entry.shown[shown_at]) for entry in entries).items():
        # A name of punctuation only ("!!!") normalises to nothing: it is grouped as written, case aside.
        group = str(key) or spelling.casefold()
        if group:  # "": no value
            spellings[group].append((-count, spelling))
    ranked = sorted((sum(count for count, _ in forms), group) for group, forms in spellings.items())
    # Shown: the spelling most of the group's albums use (ties: the first in code-point order).
    return [{label: min(spellings[group])[1], "count": -negative} for negative, group in ranked]


class Catalog:
    """All albums' entries in memory, grouped by rank bucket, with the orders and searches asked for cached until the
    catalog changes. `versions` and `identity` say which state of the stored catalog it holds."""

    def __init__(self) -> None:
        self.identity: str | None = None
        self.versions: dict[int, int] = {}
        self._buckets: dict[int, dict[int, Entry]] = {}
        self._orders: dict[tuple[str, bool], list[Entry]] = {}
        self._results: dict[tuple[tuple[str, ...], str, bool], tuple[list[Entry], list[dict[str, int]]]] = {}
        self._stats: CollectionStats | None = None

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._buckets.values())

    def clear(self, identity: str | None) -> None:
        type(self).__init__(self)  # every field back to its start value, defined once (in __init__)
        self.identity = identity

    def replace_buckets(self, buckets: Mapping[int, tuple[Mapping[int, Entry], int | None]]) -> None:
        """Take buckets' entries as stored, {bucket: (entries, version)}; a version of None forgets the bucket (its
        catalog item is gone). The cached orders are updated once for all of them, and only for the entries that
        really changed: a bulk write re-reads every bucket it touched, and updating the orders bucket by bucket
        (250 entries each, never over the re-sort threshold) cost 1.9 s at 50,000 albums with five orders cached."""
        removed: list[Entry] = []
        added: list[Entry] = []
        for bucket, (entries, version) in buckets.items():
            old = self._buckets.pop(bucket, {})
            if version is None:
                self.versions.pop(bucket, None)
            else:
                self._buckets[bucket] = dict(entries)
                self.versions[bucket] = version
            removed += [entry for rank, entry in old.items() if entries.get(rank) != entry]
            added += [entry for rank, entry in entries.items() if old.get(rank) != entry]
        if removed or added:
            self._changed(removed, added)

    def _changed(self, removed: Iterable[Entry], added: Iterable[Entry]) -> None:
        """Keeps the cached orders sorted in place (a write changes one entry, and re-sorting 50,000 costs ~0.1 s);
        search results and the stats are simply recomputed."""
        self._results.clear()
        self._stats = None
        removed, added = list(removed), list(added)
        if len(removed) + len(added) > 1_000:
            self._orders.clear()
            return
        for (sort, descending), ordered in self._orders.items():
            key = _position_of(sort, descending)
            for entry in removed:
                index = bisect_right(ordered, key(entry), key=key) - 1
                if index >= 0 and ordered[index] == entry:
                    del ordered[index]
            for entry in added:
                ordered.insert(bisect_right(ordered, key(entry), key=key), entry)

    def ordered(self, sort: str, descending: bool) -> list[Entry]:
        cached = self._orders.get((sort, descending))
        if cached is None:
            everything = [entry for entries in self._buckets.values() for entry in entries.values()]
            cached = self._orders[(sort, descending)] = sorted(everything, key=_position_of(sort, descending))
        return cached

    def result(self, words: tuple[str, ...], sort: str, descending: bool) -> tuple[list[Entry], list[dict[str, int]]]:
        """The albums matching every word, in order, and their count per decade."""
        cache_key = (words, sort, descending)
        cached = self._results.get(cache_key)
        if cached is None:
            ordered = self.ordered(sort, descending)
            matching = [entry for entry in ordered if _matches(entry.text(), words)] if words else ordered
            decades = decade_counts(matching)
            if len(self._results) > 32:  # a handful of recent searches is all a warm function needs
                self._results.clear()
            cached = self._results[cache_key] = (matching, decades)
        return cached

    def stats(self) -> CollectionStats:
        """The whole collection's stats, computed once per state of the catalog."""
        if self._stats is None:
            self._stats = collection_stats([entry for entries in self._buckets.values() for entry in entries.values()])
        return self._stats

    def select(self, request: PageRequest) -> Selection:
        matching, decades = self.result(request.words, request.sort, request.descending)
        start = 0
        if request.next_token is not None:
            after = decode_page_token(request.next_token, request)
            start = bisect_right(matching, after, key=_position_of(request.sort, request.descending))
        page = matching[start : start + request.limit]
        more = start + len(page) < len(matching)
        token = encode_page_token(request, page[-1]) if more and page else None
        return Selection([entry.rank for entry in page], start, len(matching), decades, token)


def _matches(text: str, words: tuple[str, ...]) -> bool:
    return all(word in text for word in words)


# --- page tokens -------------------------------------------------------------------------------------------------


def _fingerprint(request: PageRequest) -> str:
    """Ties a token to its search and order, so a token is never applied to another listing."""
    signature = json.dumps([request.words, request.sort, request.descending], separators=(",", ":"))
    return hashlib.sha256(signature.encode()).hexdigest()[:12]


def encode_page_token(request: PageRequest, last: Entry) -> str:
    """Opaque, URL-safe: the last album's place in the order (its sort value and Rank), not an index, so a page
    continues correctly after albums were added or deleted before it."""
    return _encoded({"f": _fingerprint(request), "v": last.value(request.sort), "r": last.rank})


def decode_page_token(token: str, request: PageRequest) -> Position:
    """token -> the position to continue after; anything we did not issue -> InvalidRequest on field nextToken."""
    payload = _token_payload(token)
    if payload is None:
        raise InvalidRequest({"nextToken": _BAD_TOKEN})
    if payload["f"] != _fingerprint(request):
        raise InvalidRequest({"nextToken": _OTHER_QUERY})
    value, rank = payload["v"], payload["r"]
    expected = int if FIELD[request.sort].kind == "integer" else str
    if type(value) is not expected or (request.sort == "Rank" and value != rank):
        raise InvalidRequest({"nextToken": _BAD_TOKEN})
    return position(request.sort, request.descending, value, rank)


def _token_payload(token: str) -> dict[str, Any] | None:
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:  # bad base64, UTF-8 or JSON
        return None
    if not isinstance(payload, dict) or set(payload) != {"f", "v", "r"}:
        return None
    rank = payload["r"]
    if type(rank) is not int or not 1 <= rank <= RANK_MAX or type(payload["f"]) is not str:
        return None
    # Only the canonical encoding is accepted, so a token has exactly one spelling.
    return payload if _encoded({"f": payload["f"], "v": payload["v"], "r": rank}) == token else None


def _encoded(payload: dict[str, Any]) -> str:
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
