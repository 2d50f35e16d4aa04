"""All DynamoDB access for albums: conditional writes, the bucket directory, bucketed pagination, page tokens.

Retries of throttling and transient errors are botocore's job (standard retry mode, see RETRY_CONFIG), not ours.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from albums.domain import (
    RANK_MAX,
    Album,
    AlbumChanges,
    AlbumError,
    AlbumNotFound,
    InvalidAlbum,
    NewAlbum,
    RankTaken,
    VersionConflict,
    utc_timestamp,
    validate_new_album,
)
from albums.table import (
    DIRECTORY_BUCKETS_ATTRIBUTE,
    DIRECTORY_RANK,
    GSI_NAME,
    album_from_item,
    album_item,
    rank_bucket,
)

# Standard mode retries throttling (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded), 5xx and
# connection errors with jittered exponential backoff. Four attempts keep the worst case (~7 s of backoff) well
# inside API Gateway's 29 s; tight timeouts turn a hung connection into a retry instead of a stuck request.
RETRY_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=2, read_timeout=5)
SEED_CALLER = "seed"  # createdBy/updatedBy of seeded albums
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_BAD_TOKEN = "is not a valid pagination token (pass back the nextToken of the previous page unchanged)"


@functools.cache
def albums_table(table_name: str) -> Any:
    """The boto3 Table resource, created on first use and reused by every warm invocation."""
    return boto3.resource("dynamodb", config=RETRY_CONFIG).Table(table_name)


@functools.cache
def default_repository() -> AlbumRepository:
    from albums.settings import get_settings

    return AlbumRepository(albums_table(get_settings().table_name))


@dataclass(frozen=True)
class Page:
    albums: list[Album]
    next_token: str | None

    def to_json(self) -> dict[str, Any]:
        return {"items": [album.to_json() for album in self.albums], "nextToken": self.next_token}


def encode_page_token(last_rank: int) -> str:
    """Opaque, URL-safe token naming the last album of a page (and its bucket, where the next page starts)."""
    payload = json.dumps({"b": rank_bucket(last_rank), "r": last_rank}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode_page_token(token: str) -> tuple[int, int]:
    """token -> (bucket, last rank); anything we did not issue ourselves -> InvalidAlbum on field nextToken."""
    if _TOKEN_SHAPE.fullmatch(token):
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            bucket, rank = data["b"], data["r"]
            # Only the canonical encoding of a real position is accepted; this also checks types and ranges.
            if type(rank) is int and 1 <= rank <= RANK_MAX and encode_page_token(rank) == token:
                return bucket, rank
        except (ValueError, TypeError, KeyError):  # bad base64 / UTF-8 / JSON, or JSON that is not an object
            pass
    raise InvalidAlbum({"nextToken": _BAD_TOKEN})


class AlbumRepository:
    """Albums in one DynamoDB table (see albums.table for its layout)."""

    def __init__(self, table: Any, clock: Callable[[], str] = utc_timestamp) -> None:
        self._table = table
        self._clock = clock

    # --- reads ---------------------------------------------------------------------------------------------------

    def get(self, rank: int) -> Album:
        current = self._find(rank)
        if current is None:
            raise AlbumNotFound(rank)
        return current

    def list_page(self, limit: int, next_token: str | None = None) -> Page:
        """Up to `limit` albums in ascending Rank after the token's position; next_token is None exactly at the end.

        Reads the current bucket's GSI partition asking for one album more than still fits, which tells whether a
        next page exists; when a bucket runs out, the directory item names the next occupied buckets.
        """
        bucket, after = (0, DIRECTORY_RANK) if next_token is None else decode_page_token(next_token)
        albums: list[Album] = []
        later_buckets: Iterator[int] | None = None
        while True:
            batch, resume_after = self._query_bucket(bucket, after, limit + 1 - len(albums))
            albums.extend(batch)
            if len(albums) > limit:
                page = albums[:limit]
                return Page(page, encode_page_token(page[-1].rank))
            if resume_after is not None:  # DynamoDB's 1 MB response cap cut the bucket short
                after = resume_after
                continue
            if later_buckets is None:
                later_buckets = iter(self._occupied_buckets_after(bucket))
            next_bucket = next(later_buckets, None)
            if next_bucket is None:
                return Page(albums, None)
            bucket, after = next_bucket, DIRECTORY_RANK

    def _find(self, rank: int) -> Album | None:
        item = self._table.get_item(Key={"Rank": rank}, ConsistentRead=True).get("Item")
        return None if item is None else album_from_item(item)

    def _query_bucket(self, bucket: int, after: int, limit: int) -> tuple[list[Album], int | None]:
        response = self._table.query(
            IndexName=GSI_NAME,
            KeyConditionExpression=Key("RankBucket").eq(bucket) & Key("Rank").gt(after),
            Limit=limit,
        )
        albums = [album_from_item(item) for item in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        cut_short = last_key is not None and len(albums) < limit
        return albums, int(last_key["Rank"]) if cut_short else None

    def _occupied_buckets_after(self, bucket: int) -> list[int]:
        directory = self._table.get_item(Key={"Rank": DIRECTORY_RANK}, ConsistentRead=True).get("Item", {})
        return sorted(b for b in map(int, directory.get(DIRECTORY_BUCKETS_ATTRIBUTE, ())) if b > bucket)

    # --- writes --------------------------------------------------------------------------------------------------

    def create(self, new: NewAlbum, caller: str) -> Album:
        """Stores a new album at version 1; RankTaken if the rank is in use (a conditional put, no read first)."""
        album = self._stamped(new, caller)
        # The directory learns the bucket BEFORE the album exists, so a listing can never miss an occupied bucket.
        self._record_buckets({rank_bucket(new.rank)})
        try:
            self._table.put_item(
                Item=album_item(album),
                ConditionExpression=Attr("Rank").not_exists(),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            # botocore retries a put whose response was lost although DynamoDB applied it; the retry then finds
            # our own album (same millisecond stamp and caller) and must not report it as someone else's.
            if _old_album(error) == album:
                return album
            raise RankTaken(new.rank) from None
        return album

    def update(self, rank: int, changes: AlbumChanges, caller: str) -> Album:
        """Applies changes if the stored version is changes.version; AlbumNotFound / VersionConflict otherwise."""
        names = {"#rank": "Rank", "#version": "version", "#updatedAt": "updatedAt", "#updatedBy": "updatedBy"}
        values: dict[str, Any] = {
            ":expected": changes.version,
            ":next": changes.version + 1,
            ":now": self._clock(),
            ":caller": caller,
        }
        assignments = ["#version = :next", "#updatedAt = :now", "#updatedBy = :caller"]
        for index, (field, value) in enumerate(changes.fields.items()):
            names[f"#f{index}"] = field
            values[f":f{index}"] = value
            assignments.append(f"#f{index} = :f{index}")
        try:
            response = self._table.update_item(
                Key={"Rank": rank},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="attribute_exists(#rank) AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            conflict = self._conflict(rank, error)
            if isinstance(conflict, VersionConflict) and _is_own_applied_update(conflict.current, changes, values):
                return conflict.current  # a retry of an update DynamoDB had already applied
            raise conflict from None
        return album_from_item(response["Attributes"])

    def delete(self, rank: int, expected_version: int | None = None) -> None:
        """Deletes the album (only at expected_version, if given). Its bucket stays in the directory on purpose:
        a stale bucket costs one empty query, a missing one would hide albums."""
        condition = "attribute_exists(#rank)"
        extra: dict[str, Any] = {}
        if expected_version is not None:
            condition += " AND #version = :expected"
            extra = {"ExpressionAttributeValues": {":expected": expected_version}}
        try:
            self._table.delete_item(
                Key={"Rank": rank},
                ConditionExpression=condition,
                ExpressionAttributeNames={"#rank": "Rank", **({"#version": "version"} if extra else {})},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **extra,
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            raise (AlbumNotFound(rank) if expected_version is None else self._conflict(rank, error)) from None

    def put_many(self, albums: Iterable[NewAlbum], *, caller: str = SEED_CALLER, chunk_size: int = 1000) -> int:
        """Bulk write (batch_write_item; overwrites same ranks at version 1), keeping the directory complete."""
        written = 0
        iterator = iter(albums)
        while chunk := list(islice(iterator, chunk_size)):
            self._record_buckets({rank_bucket(new.rank) for new in chunk})
            with self._table.batch_writer(overwrite_by_pkeys=["Rank"]) as batch:
                for new in chunk:
                    batch.put_item(Item=album_item(self._stamped(new, caller)))
            written += len(chunk)
        return written

    def _stamped(self, new: NewAlbum, caller: str) -> Album:
        now = self._clock()
        return Album(new.rank, new.title, new.artist, new.genre, new.year, 1, now, now, caller, caller)

    def _record_buckets(self, buckets: set[int]) -> None:
        self._table.update_item(
            Key={"Rank": DIRECTORY_RANK},
            UpdateExpression="ADD #buckets :buckets",
            ExpressionAttributeNames={"#buckets": DIRECTORY_BUCKETS_ATTRIBUTE},
            ExpressionAttributeValues={":buckets": buckets},
        )

    def _conflict(self, rank: int, error: ClientError) -> AlbumError:
        """A failed `exists AND version = expected` condition: which half failed?"""
        current = _old_album(error)  # ReturnValuesOnConditionCheckFailure=ALL_OLD saves a read
        if current is None:
            current = self._find(rank)
        return AlbumNotFound(rank) if current is None else VersionConflict(current)


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _old_album(error: ClientError) -> Album | None:
    """The item a failed condition saw (ReturnValuesOnConditionCheckFailure=ALL_OLD), if the service sent it."""
    old_item = error.response.get("Item")
    if not old_item or "Album" not in old_item:
        return None
    deserializer = TypeDeserializer()
    return album_from_item({name: deserializer.deserialize(value) for name, value in old_item.items()})


def _is_own_applied_update(current: Album, changes: AlbumChanges, values: Mapping[str, Any]) -> bool:
    stored = current.to_json()
    return (
        current.version == values[":next"]
        and current.updated_at == values[":now"]
        and current.updated_by == values[":caller"]
        and all(stored[field] == value for field, value in changes.fields.items())
    )


def seed_albums(table: Any, rows: Iterable[Mapping[str, object]], *, seeded_by: str = SEED_CALLER) -> int:
    """Validates seed rows with the API's own rules, then bulk-writes them (see AlbumRepository.put_many).

    `table` is a boto3 DynamoDB Table resource; each row maps Rank, Album, Artist, Genre, Year (Rank and Year as
    int). Nothing is written unless every row is valid and no rank repeats; InvalidAlbum.fields then names each
    problem as "row <n> <field>" (n counts from 1). Returns the number of albums written.
    """
    albums: list[NewAlbum] = []
    problems: dict[str, str] = {}
    first_row_of: dict[int, int] = {}
    for number, row in enumerate(rows, start=1):
        try:
            new = validate_new_album(dict(row))
        except InvalidAlbum as invalid:
            problems.update({f"row {number} {field}": why for field, why in invalid.fields.items()})
            continue
        if new.rank in first_row_of:
            problems[f"row {number} Rank"] = f"repeats the rank of row {first_row_of[new.rank]}"
            continue
        first_row_of[new.rank] = number
        albums.append(new)
    if problems:
        raise InvalidAlbum(problems, message=f"{len(problems)} problem(s) in the seed data; nothing was written.")
    return AlbumRepository(table).put_many(albums, caller=seeded_by)
