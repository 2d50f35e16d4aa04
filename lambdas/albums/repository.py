"""All DynamoDB access for albums: transactional writes that keep the catalog exact, and catalog-backed listings.

Every write changes the album, its bucket's catalog item and the directory's version of that bucket in ONE
TransactWriteItems, so the catalog (albums.catalog) never disagrees with the albums, and a retried transaction is
idempotent (botocore sends the same ClientRequestToken on each attempt; DynamoDB and MiniStack apply it once).
Retries of throttling and transient errors are botocore's (standard mode, RETRY_CONFIG); a transaction that keeps
losing to concurrent ones (TransactionConflict) is retried here a few times and then reported as ServiceBusy (503).
"""

from __future__ import annotations

import functools
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from albums.catalog import Catalog, Entry, entry_from_stored, entry_of
from albums.domain import (
    Album,
    AlbumChanges,
    AlbumError,
    AlbumNotFound,
    NewAlbum,
    Page,
    PageRequest,
    RankTaken,
    ServiceBusy,
    UnreadableAlbum,
    VersionConflict,
    utc_timestamp,
)
from albums.table import (
    DIRECTORY_RANK,
    UnreadableItem,
    album_from_item,
    album_item,
    bucket_version_attribute,
    bucket_versions,
    catalog_attribute,
    catalog_entries,
    catalog_rank,
    rank_bucket,
)

# Standard mode retries throttling (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded), 5xx and
# connection errors with jittered exponential backoff. Four attempts keep the worst case (~7 s of backoff) well
# inside API Gateway's 29 s; tight timeouts turn a hung connection into a retry instead of a stuck request.
RETRY_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=2, read_timeout=5)
CONFLICT_ATTEMPTS = 4  # a transaction that lost to a concurrent one on the directory item is tried this often
_BATCH_GET_KEYS = 100  # DynamoDB's limit per BatchGetItem
logger = logging.getLogger("albums")
_deserialize = TypeDeserializer().deserialize


@functools.cache
def albums_table(table_name: str) -> Any:
    """The boto3 Table resource, created on first use and reused by every warm invocation."""
    return boto3.resource("dynamodb", config=RETRY_CONFIG).Table(table_name)


@functools.cache
def default_repository() -> AlbumRepository:
    from albums.settings import get_settings

    return AlbumRepository(albums_table(get_settings().table_name))


class AlbumRepository:
    """Albums in one DynamoDB table (see albums.table for its layout)."""

    def __init__(self, table: Any, clock: Callable[[], str] = utc_timestamp) -> None:
        self._table = table
        # The resource's own client: boto3 converts plain Python values to and from DynamoDB's typed JSON on it.
        self._client = table.meta.client
        self._clock = clock
        self.catalog = Catalog()  # kept across warm invocations; refreshed from the directory on every listing

    # --- reads ---------------------------------------------------------------------------------------------------

    def get(self, rank: int) -> Album:
        current = self._find(rank)
        if current is None:
            raise AlbumNotFound(rank)
        return current

    def list_page(self, request: PageRequest) -> Page:
        """One page of the albums matching request.words in request's order, with the whole result's total and
        decade counts.

        A warm call is one round trip: the page is chosen from the catalog in memory and its albums are read in the
        same BatchGetItem as the directory; only when the directory shows that a bucket changed are those catalog
        items read, the page chosen again and any album it lacks read."""
        guess = self.catalog.select(request)
        items = self._batch_get([{"Rank": DIRECTORY_RANK}, *({"Rank": rank} for rank in guess.ranks)],
                                consistent=True)
        selection = guess
        if self._apply_directory(items.pop(DIRECTORY_RANK, {})):
            selection = self.catalog.select(request)
            missing = [rank for rank in selection.ranks if rank not in items]
            items.update(self._batch_get([{"Rank": rank} for rank in missing], consistent=True))
        found, skipped = self._readable({rank: items[rank] for rank in selection.ranks if rank in items})
        albums = [found[rank] for rank in selection.ranks if rank in found]
        return Page(albums, selection.next_token, selection.start, selection.total, selection.decades, skipped)

    def refresh_catalog(self) -> Catalog:
        directory = self._table.get_item(Key={"Rank": DIRECTORY_RANK}, ConsistentRead=True).get("Item", {})
        self._apply_directory(directory)
        return self.catalog

    def _apply_directory(self, directory: Mapping[str, Any]) -> bool:
        """Brings the catalog up to the directory's versions; True when anything had to be re-read."""
        identity = directory.get("catalogId")
        changed = identity != self.catalog.identity
        if changed:  # a new table (or a rebuilt catalog): start from nothing
            self.catalog.clear(identity)
        versions = bucket_versions(directory)
        fresh: dict[int, tuple[dict[int, Entry], int | None]] = {
            gone: ({}, None) for gone in set(self.catalog.versions) - set(versions)}
        stale = [bucket for bucket, version in versions.items() if self.catalog.versions.get(bucket) != version]
        items = self._batch_get([{"Rank": catalog_rank(bucket)} for bucket in stale], consistent=True)
        for bucket in stale:
            stored = catalog_entries(items.get(catalog_rank(bucket), {}))
            fresh[bucket] = ({rank: entry_from_stored(rank, value) for rank, value in stored.items()}, versions[bucket])
        self.catalog.replace_buckets(fresh)  # all at once: the cached orders are updated once
        return changed or bool(fresh)

    def _readable(self, items: Mapping[int, Mapping[str, Any]]) -> tuple[dict[int, Album], int]:
        found: dict[int, Album] = {}
        skipped = 0
        for rank, item in items.items():
            try:
                found[rank] = album_from_item(item)
            except UnreadableItem as problem:
                skipped += 1
                logger.warning("unreadable album skipped", extra={"fields": {"rank": rank, "problem": str(problem)}})
        return found, skipped

    def _batch_get(self, keys: list[dict[str, int]], *, consistent: bool) -> dict[int, dict[str, Any]]:
        """Rank -> item for the keys that exist, following UnprocessedKeys (DynamoDB may return a partial answer)."""
        items: dict[int, dict[str, Any]] = {}
        name = self._table.name
        for start in range(0, len(keys), _BATCH_GET_KEYS):
            request: dict[str, Any] = {name: {"Keys": keys[start : start + _BATCH_GET_KEYS]}}
            if consistent:
                request[name]["ConsistentRead"] = True
            for attempt in range(8):
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(name, []):
                    items[int(item["Rank"])] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())
            else:
                raise ServiceBusy()
        return items

    def _find(self, rank: int) -> Album | None:
        item = self._table.get_item(Key={"Rank": rank}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        try:
            return album_from_item(item)
        except UnreadableItem as problem:  # an item another tool wrote
            logger.error("album cannot be read", extra={"fields": {"rank": rank, "problem": str(problem)}})
            raise UnreadableAlbum(rank, str(problem)) from None

    # --- writes --------------------------------------------------------------------------------------------------

    def create(self, new: NewAlbum, caller: str) -> Album:
        """Stores a new album at version 1; RankTaken if the rank is in use (a conditional put, no read first)."""
        album = self.stamped(new, caller)
        put = {
            "Put": {
                "TableName": self._table.name,
                "Item": album_item(album),
                "ConditionExpression": "attribute_not_exists(#rank)",
                "ExpressionAttributeNames": {"#rank": "Rank"},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        failed = self._transact([put, *self._catalog_writes(album.rank, entry_of(album))])
        if failed is not None and not _is_ours(failed, album):
            raise RankTaken(new.rank)
        # (The stored album is ours when a retry of an applied transaction ran without ClientRequestToken dedup.)
        return album

    def update(self, rank: int, changes: AlbumChanges, caller: str) -> Album:
        """Applies changes if the stored version is changes.version; AlbumNotFound / VersionConflict otherwise."""
        current = self.get(rank)
        if current.version != changes.version:
            raise VersionConflict(current)
        updated = replace(
            current,
            values=changes.applied_to(current.values),
            version=current.version + 1,
            updated_at=self._clock(),
            updated_by=caller,
        )
        put = {
            "Put": {
                "TableName": self._table.name,
                "Item": album_item(updated),
                "ConditionExpression": "attribute_exists(#rank) AND #version = :expected",
                "ExpressionAttributeNames": {"#rank": "Rank", "#version": "version"},
                "ExpressionAttributeValues": {":expected": changes.version},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        failed = self._transact([put, *self._catalog_writes(rank, entry_of(updated))])
        if failed is not None and not _is_ours(failed, updated):
            raise self._conflict(rank, failed)
        return updated

    def delete(self, rank: int, expected_version: int | None = None) -> None:
        """Deletes the album (only at expected_version, if given) and its catalog entry."""
        delete: dict[str, Any] = {
            "TableName": self._table.name,
            "Key": {"Rank": rank},
            "ConditionExpression": "attribute_exists(#rank)",
            "ExpressionAttributeNames": {"#rank": "Rank"},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if expected_version is not None:
            delete["ConditionExpression"] += " AND #version = :expected"
            delete["ExpressionAttributeNames"]["#version"] = "version"
            delete["ExpressionAttributeValues"] = {":expected": expected_version}
        failed = self._transact([{"Delete": delete}, *self._catalog_writes(rank, None)])
        if failed is not None:
            raise AlbumNotFound(rank) if expected_version is None else self._conflict(rank, failed)

    def _catalog_writes(self, rank: int, entry: Entry | None) -> list[dict[str, Any]]:
        """The two catalog updates of a write: the bucket's entry (set, or removed when entry is None) and the
        bucket's version in the directory (so readers know to re-read it)."""
        bucket = rank_bucket(rank)
        names = {"#entry": catalog_attribute(rank)}
        if entry is None:
            catalog_update: dict[str, Any] = {"UpdateExpression": "REMOVE #entry", "ExpressionAttributeNames": names}
        else:
            catalog_update = {
                "UpdateExpression": "SET #entry = :entry",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":entry": entry.stored()},
            }
        return [
            {"Update": {"TableName": self._table.name, "Key": {"Rank": catalog_rank(bucket)},
                        **catalog_update}},
            {"Update": self.directory_bump([bucket])},
        ]

    def directory_bump(self, buckets: Iterable[int]) -> dict[str, Any]:
        buckets = sorted(set(buckets))
        names = {f"#v{bucket}": bucket_version_attribute(bucket) for bucket in buckets}
        return {
            "TableName": self._table.name,
            "Key": {"Rank": DIRECTORY_RANK},
            "UpdateExpression": "ADD " + ", ".join(f"#v{bucket} :one" for bucket in buckets)
            + " SET #id = if_not_exists(#id, :id)",
            "ExpressionAttributeNames": {**names, "#id": "catalogId"},
            "ExpressionAttributeValues": {":one": 1, ":id": uuid.uuid4().hex},
        }

    def _transact(self, items: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Runs the transaction; returns None when it was applied, or the first item's cancellation reason when that
        item's condition failed (the others are ours and unconditional). Lost races are retried, then ServiceBusy."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return None
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons") or []
                first = reasons[0] if reasons else {}
                if first.get("Code") == "ConditionalCheckFailed":
                    return first
                if not any(reason.get("Code") in ("TransactionConflict", "ThrottlingError") for reason in reasons):
                    raise
                logger.info("transaction lost a race; retrying", extra={"fields": {"attempt": attempt + 1}})
                time.sleep(min(0.02 * 2**attempt, 0.5) * (0.5 + random.random()))
        raise ServiceBusy()

    def _conflict(self, rank: int, reason: Mapping[str, Any]) -> AlbumError:
        """A failed `exists AND version = expected` condition: which half failed?"""
        try:
            current = _stored_album(reason) if reason.get("Item") else self._find(rank)
        except UnreadableItem as problem:
            return UnreadableAlbum(rank, str(problem))
        return AlbumNotFound(rank) if current is None else VersionConflict(current)

    def stamped(self, new: NewAlbum, caller: str) -> Album:
        """The album `new` becomes when `caller` creates it now (version 1)."""
        now = self._clock()
        return Album(values=new.values, version=1, created_at=now, updated_at=now, created_by=caller, updated_by=caller)


def _stored_album(reason: Mapping[str, Any]) -> Album | None:
    """The album a failed condition saw (ReturnValuesOnConditionCheckFailure=ALL_OLD), if the service sent one.

    Cancellation reasons are not converted by boto3's resource layer: their values are still typed JSON."""
    old = reason.get("Item")
    if not old:
        return None
    return album_from_item({key: _deserialize(value) if _typed(value) else value for key, value in old.items()})


def _is_ours(reason: Mapping[str, Any], album: Album) -> bool:
    try:
        return _stored_album(reason) == album
    except UnreadableItem:
        return False


def _typed(value: object) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N", "L", "M", "BOOL", "NULL")
