"""The Albums table as data, shared by the bootstrap (create_table) and the unit-test fixtures, plus the mapping
between an Album and its stored item.

Listing reads the GSI `ByRankBucket` (hash RankBucket = Rank // BUCKET_SIZE, range Rank): one page touches one bounded
partition, because MiniStack's Query sorts a whole partition per call and real DynamoDB should not get one hot
partition. The item with Rank 0 is the bucket directory: one number attribute per bucket, `b<bucket>` = how many albums
the bucket holds (`b4` for ranks 1000-1249), kept with atomic ADDs. A count is an upper bound, never below the
bucket's real number of albums (see AlbumRepository.create), so a listing may skip every bucket counted 0 without
querying it. The directory has no RankBucket, so it never appears in the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from albums.domain import Album

GSI_NAME = "ByRankBucket"
# 250: a full bucket costs MiniStack ~9 ms to sort per Query (1,000 cost ~35 ms), and bucket 0 is as full at
# 500 albums as at 50,000, so a page costs the same at any table size. Even 4,001 bucket counts keep the directory
# small (~40 KB of the item's 400 KB).
BUCKET_SIZE = 250
DIRECTORY_RANK = 0
_BUCKET_COUNT = re.compile(r"b([0-9]+)")

# Use as `client.create_table(**TABLE_DEFINITION, TableName=name)`; treat as read-only.
TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "Rank", "AttributeType": "N"},
        {"AttributeName": "RankBucket", "AttributeType": "N"},
    ],
    "KeySchema": [{"AttributeName": "Rank", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
    "GlobalSecondaryIndexes": [
        {
            "IndexName": GSI_NAME,
            "KeySchema": [
                {"AttributeName": "RankBucket", "KeyType": "HASH"},
                {"AttributeName": "Rank", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
}


def rank_bucket(rank: int) -> int:
    return rank // BUCKET_SIZE


def bucket_count_attribute(bucket: int) -> str:
    """The directory attribute counting the albums of `bucket`."""
    return f"b{bucket}"


def occupied_buckets(directory: Mapping[str, Any]) -> list[int]:
    """The buckets the directory item counts above 0, ascending (other attributes, such as Rank, are ignored)."""
    counted = ((_BUCKET_COUNT.fullmatch(name), count) for name, count in directory.items())
    return sorted(int(match[1]) for match, count in counted if match and count > 0)


def album_item(album: Album) -> dict[str, Any]:
    """The stored item of an album: the contract's fields plus RankBucket (the GSI hash key)."""
    item = album.to_json()
    item["RankBucket"] = rank_bucket(album.rank)
    return item


def album_from_item(item: Mapping[str, Any]) -> Album:
    """A stored item (numbers as Decimal, as boto3's resource layer returns them) -> Album."""
    return Album(
        rank=_integer(item["Rank"]),
        title=item["Album"],
        artist=item["Artist"],
        genre=item["Genre"],
        year=_integer(item["Year"]),
        version=_integer(item["version"]),
        created_at=item["createdAt"],
        updated_at=item["updatedAt"],
        created_by=item["createdBy"],
        updated_by=item["updatedBy"],
    )


def _integer(value: Decimal | int) -> int:
    return int(value)


def seed_albums(table: Any, albums: Iterable[Mapping[str, object]], *, seeded_by: str = "seed") -> int:
    """Bulk-load albums (dicts of Rank, Album, Artist, Genre, Year) into `table` (a boto3 Table resource).

    Kept here next to the definition for the bootstrap; the work (validation with the API's rules, batch writes,
    bucket counts) is `albums.repository.seed_albums`, imported lazily so that `albums.table` stays cheap.
    """
    from albums.repository import seed_albums as seed_with_repository

    return seed_with_repository(table, albums, seeded_by=seeded_by)
