"""Loading many albums at once and rebuilding the catalog: the bootstrap's seed step and the benchmarks use these;
the functions never do, so none of it is in their zip (lambdas/albums). Built on the repository's own item layout
(albums.table) and catalog entries (albums.catalog), so what is loaded here reads exactly as what the API writes."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any

from albums.catalog import Entry, entry_of
from albums.domain import InvalidRequest, NewAlbum, validate_new_album
from albums.repository import AlbumRepository
from albums.table import (
    CATALOG_FORMAT,
    DIRECTORY_RANK,
    UnreadableItem,
    album_from_item,
    album_item,
    catalog_attribute,
    catalog_rank,
    rank_bucket,
)

SEED_CALLER = "seed"  # createdBy/updatedBy of seeded albums
_SETS_PER_UPDATE = 50  # catalog entries per bulk UpdateItem: well under DynamoDB's 4 KB expression limit
logger = logging.getLogger("albums")


def seed_albums(table: Any, rows: Iterable[Mapping[str, object]], *, seeded_by: str = SEED_CALLER) -> int:
    """Validates seed rows with the API's own rules, then bulk-writes them (see put_many).

    `table` is a boto3 DynamoDB Table resource; each row maps field names (albums.domain.FIELDS) to values (numbers as
    int; an optional field may be missing or ""). Nothing is written unless every row is valid and no rank repeats;
    InvalidRequest.fields then names each problem as "row <n> <field>" (n counts from 1). Returns the number of albums
    written.
    """
    albums: list[NewAlbum] = []
    problems: dict[str, str] = {}
    first_row_of: dict[int, int] = {}
    for number, row in enumerate(rows, start=1):
        try:
            new = validate_new_album(dict(row))
        except InvalidRequest as invalid:
            problems.update({f"row {number} {field}": why for field, why in invalid.fields.items()})
            continue
        if new.rank in first_row_of:
            problems[f"row {number} Rank"] = f"repeats the rank of row {first_row_of[new.rank]}"
            continue
        first_row_of[new.rank] = number
        albums.append(new)
    if problems:
        raise InvalidRequest(problems, message=f"{len(problems)} problem(s) in the seed data; nothing was written.")
    return put_many(table, albums, caller=seeded_by)


def put_many(table: Any, albums: Iterable[NewAlbum], *, caller: str = SEED_CALLER, chunk_size: int = 1000) -> int:
    """Bulk write at version 1 (overwrites same ranks). Not transactional: each chunk's catalog entries are written
    BEFORE its albums, so an interrupted load can list a rank that is not there yet (skipped quietly by a listing) but
    never hides an album that is."""
    repository = AlbumRepository(table)
    written = 0
    iterator = iter(albums)
    while chunk := [repository.stamped(new, caller) for new in islice(iterator, chunk_size)]:
        _write_catalog_entries(table, repository, {album.rank: entry_of(album) for album in chunk})
        with table.batch_writer(overwrite_by_pkeys=["Rank"]) as batch:
            for album in chunk:
                batch.put_item(Item=album_item(album))
        written += len(chunk)
    table.update_item(
        Key={"Rank": DIRECTORY_RANK},
        UpdateExpression="SET #format = :format",
        ExpressionAttributeNames={"#format": "format"},
        ExpressionAttributeValues={":format": CATALOG_FORMAT},
    )
    return written


def _write_catalog_entries(table: Any, repository: AlbumRepository, entries: Mapping[int, Entry]) -> None:
    by_bucket: dict[int, list[Entry]] = defaultdict(list)
    for rank, entry in entries.items():
        by_bucket[rank_bucket(rank)].append(entry)
    for bucket, bucket_entries in by_bucket.items():
        for start in range(0, len(bucket_entries), _SETS_PER_UPDATE):
            group = bucket_entries[start : start + _SETS_PER_UPDATE]
            table.update_item(
                Key={"Rank": catalog_rank(bucket)},
                UpdateExpression="SET " + ", ".join(f"#r{entry.rank} = :r{entry.rank}" for entry in group),
                ExpressionAttributeNames={f"#r{entry.rank}": catalog_attribute(entry.rank) for entry in group},
                ExpressionAttributeValues={f":r{entry.rank}": entry.stored() for entry in group},
            )
    bump = repository.directory_bump(by_bucket)
    table.meta.client.update_item(**bump)  # the resource's client: it serialises the values


def rebuild_catalog(table: Any) -> int:
    """Writes the catalog afresh from a scan of the albums (a table from before the catalog or from an older field
    table, or after repairs by hand). Run it on an idle stack: writes during the scan may be missed. Unreadable items
    are left out and logged. Returns the number of albums catalogued."""
    entries: dict[int, Entry] = {}
    old_catalog: list[int] = []
    scan: dict[str, Any] = {}
    while True:
        page = table.scan(**scan)
        for item in page["Items"]:
            rank = int(item["Rank"])
            if rank < DIRECTORY_RANK:
                old_catalog.append(rank)
            elif rank > DIRECTORY_RANK:
                try:
                    entries[rank] = entry_of(album_from_item(item))
                except UnreadableItem as problem:
                    logger.warning("unreadable album left out of the catalog: Rank %s %s", rank, problem)
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    with table.batch_writer() as batch:
        for rank in old_catalog:
            batch.delete_item(Key={"Rank": rank})
    table.put_item(Item={"Rank": DIRECTORY_RANK, "catalogId": uuid.uuid4().hex, "format": CATALOG_FORMAT})
    if entries:
        _write_catalog_entries(table, AlbumRepository(table), entries)
    return len(entries)
