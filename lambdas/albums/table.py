"""The Albums table as data, shared by the bootstrap (create_table) and the unit-test fixtures, plus the mapping
between an Album and its stored items.

One table keyed by Rank holds three kinds of item:
- albums, Rank 1 .. 1,000,000;
- one catalog item per rank bucket (BUCKET_SIZE ranks), Rank -1 - bucket: attribute `r<rank>` holds that album's
  search and sort keys (see albums.catalog: normalised, but Artist and Genre as written, for the stats' names). It
  is written in the same transaction as the album, so it is exact, and it stays well inside DynamoDB's 400 KB per
  item (250 entries of at most ~800 characters);
- the directory, Rank 0: `v<bucket>` counts the writes to each bucket's catalog item (a reader re-reads only the
  buckets whose number changed) and `catalogId` names this catalog (a new table gets a new one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from albums.catalog import KEYS
from albums.domain import FIELDS, Album, Value

# 250: a catalog item stays small (~20 KB for typical titles), so a write's transaction stays cheap, and 50,000
# albums are 200 items, read once per cold start.
BUCKET_SIZE = 250
DIRECTORY_RANK = 0
# The directory's `format`: the layout's version and the catalog's keys. A catalog of another format (none, list
# entries, other keys) is rebuilt by the bootstrap's seed step.
CATALOG_FORMAT = f"4:{','.join(KEYS)}"
_BUCKET_VERSION = re.compile(r"v([0-9]+)")

# Use as `client.create_table(**TABLE_DEFINITION, TableName=name)`; treat as read-only.
TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [{"AttributeName": "Rank", "AttributeType": "N"}],
    "KeySchema": [{"AttributeName": "Rank", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def rank_bucket(rank: int) -> int:
    return rank // BUCKET_SIZE


def catalog_rank(bucket: int) -> int:
    """The key of a bucket's catalog item: below 0, so it never collides with an album or the directory."""
    return -1 - bucket


def catalog_attribute(rank: int) -> str:
    return f"r{rank}"


def bucket_version_attribute(bucket: int) -> str:
    return f"v{bucket}"


def bucket_versions(directory: Mapping[str, Any]) -> dict[int, int]:
    """bucket -> version, from the directory item (other attributes are ignored)."""
    matches = ((_BUCKET_VERSION.fullmatch(name), value) for name, value in directory.items())
    return {int(match[1]): int(value) for match, value in matches if match}


def catalog_entries(item: Mapping[str, Any]) -> dict[int, Any]:
    """rank -> stored entry, from a catalog item."""
    return {int(name[1:]): value for name, value in item.items() if name.startswith("r") and name[1:].isdigit()}


def album_item(album: Album) -> dict[str, Any]:
    """The stored item of an album: the contract's fields (an absent optional field is no attribute)."""
    return album.to_json()


def album_from_item(item: Mapping[str, Any]) -> Album:
    """A stored item (numbers as Decimal, as boto3's resource layer returns them) -> Album.

    Raises UnreadableItem, naming the field, when another tool wrote something that is not an album of ours. An
    optional field that is absent is no problem: items stored before it existed read fine.
    """
    values: dict[str, Value] = {}
    for field in FIELDS:
        if field.name not in item and not field.required:
            continue
        values[field.name] = _integer(item, field.name) if field.kind == "integer" else _text(item, field.name)
    return Album(
        values=values,
        version=_integer(item, "version"),
        created_at=_text(item, "createdAt"),
        updated_at=_text(item, "updatedAt"),
        created_by=_text(item, "createdBy"),
        updated_by=_text(item, "updatedBy"),
    )


class UnreadableItem(ValueError):
    """A stored item that does not have the shape of an album (written by another tool, or by hand)."""


def _integer(item: Mapping[str, Any], field: str) -> int:
    value = item.get(field)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if type(value) is int:
        return value
    raise UnreadableItem(f"{field} is {'missing' if value is None else 'not an integer'}")


def _text(item: Mapping[str, Any], field: str) -> str:
    value = item.get(field)
    if type(value) is not str:
        raise UnreadableItem(f"{field} is {'missing' if value is None else 'not a text'}")
    return value
