"""The album model and every validation rule of the API, in one place.

FIELDS is the one table of an album's fields: its name (in the contract and in the stored item alike), the label people
read, its rule, and whether it is required, editable, sortable and searchable. The model, the validation of request
bodies, the stored item (albums.table), the catalog's search and sort keys (albums.catalog), the JSON Schemas that the
OpenAPI file is checked against and the site's forms and columns (config.js `albumFields`) all follow it. Adding an
optional field is one line here (plus its place in api/openapi.yaml, which a unit test holds to this table).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, overload

RANK_MIN, RANK_MAX = 1, 1_000_000
YEAR_MIN = 1900
TEXT_MIN_LENGTH, TEXT_MAX_LENGTH = 1, 200
# Versions stay within JavaScript's safe integers so the browser can echo them back unchanged.
VERSION_MIN, VERSION_MAX = 1, 2**53 - 1
PAGE_LIMIT_MIN, PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT = 1, 100, 50
# Listing: `sort` is any sortable album field (see FIELDS), `order` asc|desc; `q` is bounded so one search costs a
# bounded amount of work.
SORT_ORDERS = ("asc", "desc")
SEARCH_MAX_LENGTH, SEARCH_MAX_WORDS = 100, 8

# The text rule as ONE regular expression that ECMA-262 (the page, OpenAPI tools) and Python `re` (this server) read
# the same way: written with explicit \uXXXX ranges only, because `\s` differs (ECMA counts U+FEFF as a space,
# Python does not). Nowhere: C0/C1 control characters, U+FFFD (the mark of bytes that were not UTF-8) and the
# bidirectional embeddings, overrides and isolates (they reorder the text around them: "\u202Eabc" shows "cba").
# At least once: a visible character, i.e. none of these (BMP, Unicode 14): separators and spaces (Zs, Zl, Zp),
# format characters (Cf: zero-width space/joiners, BOM, ...), and the fillers that render as nothing.
# The tag characters (U+E0000-U+E007F: invisible, they carry hidden text) are refused too, but outside the pattern:
# they lie beyond the BMP, which no escape spells alike in both dialects (`\u{E0000}` is ECMA's, `\U000E0000`
# Python's), and the contract fuzzer's tools rewrite a literal one into Python's escape, which ECMA rejects.
BIDI_CONTROLS = r"\u202A-\u202E\u2066-\u2069"
TAG_CHARACTERS = "\U000E0000-\U000E007F"  # the characters themselves (for Python's `re` only)
_FORBIDDEN = r"\u0000-\u001F\u007F-\u009F\uFFFD" + BIDI_CONTROLS
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_TAGS = re.compile(f"[{TAG_CHARACTERS}]")
_INVISIBLE = (r"\u0020\u00A0\u00AD\u034F\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u115F\u1160\u1680"
              r"\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u2800\u3000\u3164\uFEFF\uFFA0"
              r"\uFFF9-\uFFFB")
TEXT_PATTERN = f"^[^{_FORBIDDEN}]*[^{_FORBIDDEN}{_INVISIBLE}][^{_FORBIDDEN}]*$"
_TEXT = re.compile(TEXT_PATTERN)
_QUERY_INT = re.compile(r"[0-9]{1,16}")  # ASCII digits only: int() would also accept "٣", " 3" and "+3"


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_timestamp() -> str:
    """ISO-8601 UTC with millisecond precision, e.g. 2026-11-25T20:06:00.123Z."""
    return utc_now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def year_max() -> int:
    """Latest acceptable release year: announced albums of next year are allowed. Evaluated per call."""
    return utc_now().year + 1


# --- exceptions: what went wrong, in the domain's words; albums.http maps them to status codes -------------------


class AlbumError(Exception):
    """Base of every expected, client-caused failure."""


class InvalidRequest(AlbumError):
    """The request breaks validation rules: an album field, a query parameter, the page token, the body (its
    encoding, size or JSON) or, when seeding, a row. `fields` maps each bad field ("body" for the whole body) to why."""

    def __init__(self, fields: Mapping[str, str], message: str = "The request is invalid.") -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields)


class AlbumNotFound(AlbumError):
    def __init__(self, rank: int) -> None:
        super().__init__(f"No album has rank {rank}.")
        self.rank = rank


class RankTaken(AlbumError):
    def __init__(self, rank: int) -> None:
        super().__init__(f"Rank {rank} is already taken by another album.")
        self.rank = rank


class VersionConflict(AlbumError):
    """The caller's version is stale; `current` is the stored album so a client can show what changed."""

    def __init__(self, current: Album) -> None:
        super().__init__(f"Album {current.rank} was changed by someone else (now at version {current.version}).")
        self.current = current


class UnreadableAlbum(AlbumError):
    """The stored item at this rank is not an album this API can read (written by another tool or by hand)."""

    def __init__(self, rank: int, problem: str) -> None:
        super().__init__(f"Album {rank} is stored in a form this API cannot read ({problem}); fix or delete it.")
        self.rank = rank


class ServiceBusy(AlbumError):
    """The table kept refusing a write for now (contention or throttling that outlasted the retries)."""

    retry_after_seconds = 1

    def __init__(self) -> None:
        super().__init__("The albums table is busy; try again in a moment.")


class Unauthenticated(AlbumError):
    """No usable caller identity: the claims are missing, or are not those of this app client's ID token."""


class NotAllowed(AlbumError):
    """The caller is signed in but may not do this (a reader's write; see albums.authorization)."""


class UnsupportedMediaType(AlbumError):
    """A body sent as something other than JSON (Content-Type), which the API does not read."""


# --- rules -------------------------------------------------------------------------------------------------------


class _Invalid(ValueError):
    """One field's failure; collected into InvalidRequest.fields."""


@dataclass(frozen=True)
class IntegerRule:
    minimum: int
    maximum: int | Callable[[], int]

    def upper(self) -> int:
        return self.maximum() if callable(self.maximum) else self.maximum

    def message(self) -> str:
        return f"must be an integer between {self.minimum} and {self.upper()}"

    def check(self, value: object) -> int:
        # bool is a subclass of int in Python but not an integer in the contract.
        if type(value) is not int or not self.minimum <= value <= self.upper():
            raise _Invalid(self.message())
        return value

    def parse(self, raw: str) -> int:
        """Query-string form: plain ASCII digits."""
        if not _QUERY_INT.fullmatch(raw):
            raise _Invalid(self.message())
        return self.check(int(raw))

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.upper()}


@dataclass(frozen=True)
class TextRule:
    min_length: int = TEXT_MIN_LENGTH
    max_length: int = TEXT_MAX_LENGTH

    def check(self, value: object) -> str:
        if type(value) is not str:
            raise _Invalid("must be a string")
        for char in value:
            category = unicodedata.category(char)
            if category == "Cc":
                raise _Invalid("must not contain control characters")
            if category == "Cs" or char == "\ufffd":  # lone surrogate ("\ud800" escape); U+FFFD: undecodable bytes
                raise _Invalid("must be valid Unicode text")
        if _BIDI.search(value):
            raise _Invalid("must not contain bidirectional control characters (U+202A to U+202E, U+2066 to U+2069)")
        if _TAGS.search(value):
            raise _Invalid("must not contain tag characters (U+E0000 to U+E007F)")
        text = value.strip()
        if not self.min_length <= len(text) <= self.max_length:
            raise _Invalid(f"must be {self.min_length} to {self.max_length} characters after trimming spaces")
        if not _TEXT.fullmatch(text):  # only spaces, zero-width or format characters: nothing a reader could see
            raise _Invalid("must contain a visible character")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": self.min_length, "maxLength": self.max_length, "pattern": TEXT_PATTERN}


RANK = IntegerRule(RANK_MIN, RANK_MAX)
YEAR = IntegerRule(YEAR_MIN, year_max)
VERSION = IntegerRule(VERSION_MIN, VERSION_MAX)
PAGE_LIMIT = IntegerRule(PAGE_LIMIT_MIN, PAGE_LIMIT_MAX)
TEXT = TextRule()



@dataclass(frozen=True)
class Field:
    """One album field. `name` is the contract's and the stored item's; `label` is what people read."""

    name: str
    label: str
    rule: IntegerRule | TextRule
    required: bool = True  # an optional field may be absent (old items, the seed) and is cleared by sending ""
    editable: bool = True  # PUT may change it
    sortable: bool = True  # GET ?sort=<name>
    searchable: bool = True  # GET ?q= matches words in it

    @property
    def kind(self) -> str:
        return "integer" if isinstance(self.rule, IntegerRule) else "text"


FIELDS: tuple[Field, ...] = (
    Field("Rank", "Rank", RANK, editable=False, searchable=False),
    Field("Album", "Album", TEXT),
    Field("Artist", "Artist", TEXT),
    Field("Genre", "Genre", TEXT),
    Field("Year", "Year", YEAR),
    Field("Label", "Record label", TEXT, required=False),
)
FIELD = {field.name: field for field in FIELDS}
CHANGEABLE_FIELDS = tuple(field.name for field in FIELDS if field.editable)
SORT_FIELDS = tuple(field.name for field in FIELDS if field.sortable)
SEARCH_FIELDS = tuple(field.name for field in FIELDS if field.searchable)

# A field's value: text or integer. An album's values map field names to them; an absent optional field is not there.
Value = str | int
Values = Mapping[str, Value]


def fields_json() -> list[dict[str, Any]]:
    """The field table as the site reads it (config.js `albumFields`), in display order."""
    return [{"name": field.name, "label": field.label, "type": field.kind, "required": field.required,
             "editable": field.editable, "sortable": field.sortable, "searchable": field.searchable}
            for field in FIELDS]


# --- model -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAlbum:
    """A validated POST body: the album's values (contract names; optional fields only when given)."""

    values: Values

    @property
    def rank(self) -> int:
        return int(self.values["Rank"])


@dataclass(frozen=True, kw_only=True)
class Album:
    values: Values
    version: int
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str

    @property
    def rank(self) -> int:
        return int(self.values["Rank"])

    def to_json(self) -> dict[str, Any]:
        """The API representation (field names as in the contract; an absent optional field is left out)."""
        return {
            **{field.name: self.values[field.name] for field in FIELDS if field.name in self.values},
            "version": self.version,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "createdBy": self.created_by,
            "updatedBy": self.updated_by,
        }


@dataclass(frozen=True)
class Page:
    """A listing's answer: one page of albums, and what the whole result (every page) holds."""

    albums: list[Album]
    next_token: str | None
    start: int  # index of the page's first album in the whole result
    total: int  # albums in the whole result, exactly
    decades: list[dict[str, int]]  # [{"decade": 1960, "count": 57}, ...] over the whole result, ascending
    skipped: int = 0  # albums of this page whose stored item could not be read (logged with their Rank)

    def to_json(self) -> dict[str, Any]:
        """The API representation (OpenAPI `AlbumPage`)."""
        return {
            "items": [album.to_json() for album in self.albums],
            "nextToken": self.next_token,
            "start": self.start,
            "total": self.total,
            "decades": self.decades,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class AlbumChanges:
    """A validated PUT body: the fields to set (contract names, trimmed values; None clears an optional field) and the
    version the client saw."""

    version: int
    fields: Mapping[str, Value | None]

    def applied_to(self, values: Values) -> dict[str, Value]:
        changed = {**values, **self.fields}
        return {name: value for name, value in changed.items() if value is not None}


@dataclass(frozen=True)
class PageRequest:
    """GET /album without `rank`: which albums (the search words), in which order, and where the page starts."""

    limit: int
    next_token: str | None
    words: tuple[str, ...] = ()  # normalised search words; every one must occur in the album (see search_text)
    sort: str = "Rank"
    descending: bool = False


# --- search and sort keys ----------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """The case-, accent- and punctuation-insensitive form of a text, used for search and for sorting.

    "Sgt. Pepper's Lonely" -> "sgt peppers lonely", "Beyoncé" -> "beyonce", "AC/DC" -> "acdc": punctuation is
    dropped rather than turned into a space, so "peppers", "ac/dc" and "acdc" all find what a person means.
    """
    kept = []
    for char in unicodedata.normalize("NFKD", text.casefold()):
        if char.isalnum() and not unicodedata.combining(char):
            kept.append(char)
        elif char.isspace():
            kept.append(" ")
    return " ".join("".join(kept).split())


def search_words(query: str) -> tuple[str, ...]:
    """The words of a search, normalised the same way as the albums; duplicates dropped, order kept."""
    return tuple(dict.fromkeys(normalise(query).split()))


# --- validation --------------------------------------------------------------------------------------------------


def _require_object(body: object) -> Mapping[str, object]:
    if not isinstance(body, dict):
        raise InvalidRequest({"body": "must be a JSON object"})
    return body


def _unknown_field_message(name: str) -> str:
    return "cannot be changed" if name == "Rank" else "unknown field"


def _cleared(field: Field, value: object) -> bool:
    """An optional text field sent as "" (or only spaces, as many as a text may have) means: no value."""
    return (not field.required and isinstance(value, str) and len(value) <= TEXT_MAX_LENGTH
            and not value.strip(" "))


def validate_new_album(body: object) -> NewAlbum:
    """A POST body -> NewAlbum, or InvalidRequest naming every bad field."""
    data = _require_object(body)
    errors = {name: "unknown field" for name in data if name not in FIELD}
    values: dict[str, Value] = {}
    for field in FIELDS:
        if field.name not in data or _cleared(field, data[field.name]):
            if field.required:
                errors[field.name] = "is required"
            continue
        try:
            values[field.name] = field.rule.check(data[field.name])
        except _Invalid as problem:
            errors[field.name] = str(problem)
    if errors:
        raise InvalidRequest(errors)
    return NewAlbum(values)


def validate_album_changes(body: object) -> AlbumChanges:
    """A PUT body (any editable field, plus the required `version`) -> AlbumChanges."""
    data = _require_object(body)
    allowed = {*CHANGEABLE_FIELDS, "version"}
    errors = {name: _unknown_field_message(name) for name in data if name not in allowed}
    changes: dict[str, Value | None] = {}
    for name in CHANGEABLE_FIELDS:
        field = FIELD[name]
        if name not in data:
            continue
        if _cleared(field, data[name]):
            changes[name] = None
            continue
        try:
            changes[name] = field.rule.check(data[name])
        except _Invalid as problem:
            errors[name] = str(problem)
    version = _checked(VERSION, data, "version", errors)
    if not changes and not errors:
        errors["body"] = f"must change at least one of {', '.join(CHANGEABLE_FIELDS)}"
    if errors:
        raise InvalidRequest(errors)
    assert version is not None
    return AlbumChanges(version=version, fields=changes)


def _checked(rule: IntegerRule, data: Mapping[str, object], name: str, errors: dict[str, str]) -> int | None:
    if name not in data:
        errors[name] = "is required"
        return None
    try:
        return rule.check(data[name])
    except _Invalid as problem:
        errors[name] = str(problem)
        return None


def _query_value(query: Mapping[str, str], name: str, rule: IntegerRule) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return rule.parse(raw)
    except _Invalid as problem:
        raise InvalidRequest({name: str(problem)}) from None


# Overloads: a required rank is never None (a missing one raises), so callers get an int.
@overload
def parse_rank(query: Mapping[str, str], *, required: Literal[True] = True) -> int: ...


@overload
def parse_rank(query: Mapping[str, str], *, required: bool) -> int | None: ...


def parse_rank(query: Mapping[str, str], *, required: bool = True) -> int | None:
    """`?rank=N` -> N (1..1,000,000)."""
    rank = _query_value(query, "rank", RANK)
    if rank is None and required:
        raise InvalidRequest({"rank": "is required"})
    return rank


def parse_expected_version(query: Mapping[str, str]) -> int | None:
    """Optional `?version=V` of DELETE."""
    return _query_value(query, "version", VERSION)


def parse_page_request(query: Mapping[str, str]) -> PageRequest:
    """`?limit=&nextToken=&q=&sort=&order=` -> PageRequest; InvalidRequest names every bad parameter."""
    errors: dict[str, str] = {}
    try:
        limit = _query_value(query, "limit", PAGE_LIMIT)
    except InvalidRequest as invalid:
        errors.update(invalid.fields)
        limit = None
    sort = query.get("sort", "Rank")
    if sort not in SORT_FIELDS:
        errors["sort"] = f"must be one of {', '.join(SORT_FIELDS)}"
    order = query.get("order", "asc")
    if order not in SORT_ORDERS:
        errors["order"] = "must be asc or desc"
    search = query.get("q", "")
    words = search_words(search)
    if len(search) > SEARCH_MAX_LENGTH:
        errors["q"] = f"must be at most {SEARCH_MAX_LENGTH} characters"
    elif len(words) > SEARCH_MAX_WORDS:
        errors["q"] = f"must have at most {SEARCH_MAX_WORDS} words"
    if errors:
        raise InvalidRequest(errors)
    # An empty nextToken is a client bug (it should omit the parameter); the repository rejects it as malformed.
    return PageRequest(
        limit=PAGE_LIMIT_DEFAULT if limit is None else limit,
        next_token=query.get("nextToken"),
        words=words,
        sort=sort,
        descending=order == "desc",
    )


# --- schema ------------------------------------------------------------------------------------------------------


def _field_schema(field: Field) -> dict[str, Any]:
    schema = field.rule.schema()
    if not field.required and field.kind == "text":
        # An optional text may also be "" (or spaces): no value (clears it on PUT).
        return {"anyOf": [schema, {"type": "string", "pattern": "^[ ]*$", "maxLength": TEXT_MAX_LENGTH}]}
    return schema


def album_json_schema() -> dict[str, Any]:
    """JSON Schema of the POST body (OpenAPI `AlbumInput`), with this year's Year maximum."""
    return {
        "title": "AlbumInput",
        "type": "object",
        "additionalProperties": False,
        "required": [field.name for field in FIELDS if field.required],
        "properties": {field.name: _field_schema(field) for field in FIELDS},
    }


def album_changes_json_schema() -> dict[str, Any]:
    """JSON Schema of the PUT body (OpenAPI `AlbumUpdate`)."""
    properties = {name: _field_schema(FIELD[name]) for name in CHANGEABLE_FIELDS}
    properties["version"] = VERSION.schema()
    return {
        "title": "AlbumUpdate",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "minProperties": 2,
        "properties": properties,
    }
