"""All DynamoDB access for albums: conditional writes, the bucket counts, bucketed pagination, page tokens.

Retries of throttling and transient errors are botocore's job (standard retry mode, see RETRY_CONFIG), not ours;
lowering a bucket count is the one call botocore must not retry (see AlbumRepository._uncount).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from albums.domain import (
    RANK_MAX,
    Album,
    AlbumChanges,
    AlbumError,
    AlbumNotFound,
    InvalidAlbum,
    NewAlbum,
    RankTaken,
    UnreadableAlbum,
    VersionConflict,
    utc_timestamp,
    validate_new_album,
)
from albums.table import (
    DIRECTORY_RANK,
    GSI_NAME,
    album_from_item,
    album_item,
    bucket_count_attribute,
    occupied_buckets,
    rank_bucket,
)

# Standard mode retries throttling (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded), 5xx and
# connection errors with jittered exponential backoff. Four attempts keep the worst case (~7 s of backoff) well
# inside API Gateway's 29 s; tight timeouts turn a hung connection into a retry instead of a stuck request.
RETRY_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=2, read_timeout=5)
_UNCOUNT = "ADD #count :minus_one"  # the one UpdateExpression botocore must never retry (see _single_attempt)
_SINGLE_ATTEMPT = "albums_single_attempt"
_COUNTS_PER_UPDATE = 100  # bucket ADDs per UpdateItem: keeps the update expression well under DynamoDB's 4 KB
SEED_CALLER = "seed"  # createdBy/updatedBy of seeded albums
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_BAD_TOKEN = "is not a valid pagination token (pass back the nextToken of the previous page unchanged)"
logger = logging.getLogger("albums")


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
        try:
            current = self._find(rank)
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:  # an item another tool wrote
            logger.error("album cannot be read", extra={"fields": {"rank": rank, "problem": repr(error)}})
            raise UnreadableAlbum(rank) from None
        if current is None:
            raise AlbumNotFound(rank)
        return current

    def list_page(self, limit: int, next_token: str | None = None) -> Page:
        """Up to `limit` albums in ascending Rank after the token's position; next_token is None exactly at the end.

        Reads the current bucket's GSI partition asking for one album more than still fits, which tells whether a
        next page exists; when a bucket runs out, one read of the directory item names the later buckets counted
        above 0, so empty buckets (however many albums they once held) cost no query.
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
        return [later for later in occupied_buckets(directory) if later > bucket]

    # --- writes --------------------------------------------------------------------------------------------------

    def create(self, new: NewAlbum, caller: str) -> Album:
        """Stores a new album at version 1; RankTaken if the rank is in use (a conditional put, no read first).

        Invariant of the bucket counts: a count is never below the number of albums in its bucket, because a listing
        skips buckets counted 0 and a count too low would hide albums (too high only costs one empty query). So the
        count goes up BEFORE the put can write the album, and comes down again only when no attempt of the put can
        have written it; delete lowers it only AFTER the album is gone. A crash between two steps leaves it high.
        """
        album = self._stamped(new, caller)
        bucket = rank_bucket(new.rank)
        self._count_albums(Counter({bucket: 1}))
        try:
            response = self._table.put_item(
                Item=album_item(album),
                ConditionExpression=Attr("Rank").not_exists(),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            # A 4xx (condition failed, throttled, invalid) proves that the last attempt wrote nothing.
            refused = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) < 500
            self._settle_count(bucket, _retries(error.response) + (0 if refused else 1))
            if not _is_condition_failure(error):
                raise
            # botocore retries a put whose response was lost although DynamoDB applied it; the retry then finds
            # our own album (same millisecond stamp and caller) and must not report it as someone else's.
            if _old_album(error) == album:
                return album
            raise RankTaken(new.rank) from None
        except Exception:
            # No answer at all (connection errors, timeouts): every attempt botocore made may have written.
            self._settle_count(bucket, RETRY_CONFIG.retries["total_max_attempts"])
            raise
        self._settle_count(bucket, _retries(response) + 1)
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
        """Deletes the album (only at expected_version, if given), then lowers its bucket's count: only after the
        album is gone, and only when this call deleted it (see create for the invariant)."""
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
        self._uncount(rank_bucket(rank))

    def put_many(self, albums: Iterable[NewAlbum], *, caller: str = SEED_CALLER, chunk_size: int = 1000) -> int:
        """Bulk write (batch_write_item; overwrites same ranks at version 1). Each chunk's albums are counted in
        their buckets before the chunk is written; an overwritten rank is counted twice, which is safe (too high)."""
        written = 0
        iterator = iter(albums)
        while chunk := list(islice(iterator, chunk_size)):
            self._count_albums(Counter(rank_bucket(new.rank) for new in chunk))
            with self._table.batch_writer(overwrite_by_pkeys=["Rank"]) as batch:
                for new in chunk:
                    batch.put_item(Item=album_item(self._stamped(new, caller)))
            written += len(chunk)
        return written

    def _stamped(self, new: NewAlbum, caller: str) -> Album:
        now = self._clock()
        return Album(new.rank, new.title, new.artist, new.genre, new.year, 1, now, now, caller, caller)

    def _count_albums(self, added: Counter[int]) -> None:
        """Raises bucket counts with atomic ADDs on the directory item. botocore may retry these (a retry of an
        applied ADD counts twice: too high, which is safe)."""
        buckets = sorted(added)
        for start in range(0, len(buckets), _COUNTS_PER_UPDATE):
            group = buckets[start : start + _COUNTS_PER_UPDATE]
            self._table.update_item(
                Key={"Rank": DIRECTORY_RANK},
                UpdateExpression="ADD " + ", ".join(f"#b{bucket} :b{bucket}" for bucket in group),
                ExpressionAttributeNames={f"#b{bucket}": bucket_count_attribute(bucket) for bucket in group},
                ExpressionAttributeValues={f":b{bucket}": added[bucket] for bucket in group},
            )

    def _settle_count(self, bucket: int, may_have_written: int) -> None:
        """create counted its album once in advance; make that the number of put attempts that may have written it.

        Usually 1 (nothing to do) or 0 (the only attempt was refused: uncount). After botocore retried the put, an
        earlier attempt whose answer was lost may have written the album, and if someone deleted it (uncounting it)
        before the retry, the retry writes it again: each such attempt is counted, so the count stays high enough.
        """
        if may_have_written == 0:
            self._uncount(bucket)
        elif may_have_written > 1:
            self._count_albums(Counter({bucket: may_have_written - 1}))

    def _uncount(self, bucket: int) -> None:
        """Lowers a bucket count by one, in exactly one attempt: a retried ADD whose first attempt was applied would
        subtract twice, and a count too low hides albums. A failure leaves the count high (safe), so it is logged,
        not raised: the album is deleted, or the create's answer (409, 500) is already decided."""
        _single_attempt(self._table.meta.client)
        try:
            self._table.update_item(
                Key={"Rank": DIRECTORY_RANK},
                UpdateExpression=_UNCOUNT,
                ExpressionAttributeNames={"#count": bucket_count_attribute(bucket)},
                ExpressionAttributeValues={":minus_one": -1},
            )
        except (ClientError, BotoCoreError):
            logger.warning("bucket %d count not lowered (it stays an upper bound)", bucket, exc_info=True)

    def _conflict(self, rank: int, error: ClientError) -> AlbumError:
        """A failed `exists AND version = expected` condition: which half failed?"""
        current = _old_album(error)  # ReturnValuesOnConditionCheckFailure=ALL_OLD saves a read
        if current is None:
            current = self._find(rank)
        return AlbumNotFound(rank) if current is None else VersionConflict(current)


class _NotRetried(BotoCoreError):
    fmt = "An attempt to lower a bucket count failed; it is not retried: {reason}"


def _single_attempt(client: Any) -> None:
    """Makes botocore try an `_UNCOUNT` update only once, on the table's own client (same credentials, endpoint).

    Idempotent. The request is marked while its parameters are built; after a failed attempt of a marked request,
    the operation's own needs-retry hook (which runs before botocore's retry handler for the whole service) raises
    instead of letting that handler schedule a retry.
    """

    def mark(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        if params.get("UpdateExpression") == _UNCOUNT:
            context[_SINGLE_ATTEMPT] = True

    def refuse_retry(request_dict: Mapping[str, Any], response: Any, caught_exception: Any, **_: Any) -> None:
        if request_dict.get("context", {}).get(_SINGLE_ATTEMPT):
            status = response[0].status_code if response is not None else None
            if caught_exception is not None or status is None or status >= 300:
                raise _NotRetried(reason=caught_exception or f"HTTP {status}")

    events = client.meta.events
    events.register("before-parameter-build.dynamodb.UpdateItem", mark, unique_id="albums-single-attempt-mark")
    events.register_first("needs-retry.dynamodb.UpdateItem", refuse_retry, unique_id="albums-single-attempt-retry")


def _retries(response: Mapping[str, Any]) -> int:
    """How many times botocore retried the call that produced this response (or error response)."""
    return int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0))


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
