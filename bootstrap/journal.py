"""A write-ahead journal: what a request changed is on disk before the request is answered.

One journal per service (`<state dir>/journal/<service>.<segment>.log`), one JSON line per change (a DynamoDB item or
a Cognito user as it now is, or its deletion), appended by `append` wherever the change happens and written by
`sync`, which every response awaits: a group commit (one write + fsync for all that is pending, however many requests
wait on it), in a worker thread so the event loop keeps serving meanwhile.

Compaction folds a journal into its service's snapshot: `rotate` closes the current segment at the moment the
snapshot is taken (the snapshot holds exactly the changes of the segments up to it), the snapshot file records that
segment number (`__stack_journal__`, its first key), and the segments up to it are deleted after the snapshot is
renamed into place. A start loads the snapshots, then replays only the segments after each one's number, in order;
a torn last line (a crash in the middle of a write that was never acknowledged) ends its segment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("stack.journal")

MARKER = "__stack_journal__"
_MARKER_HEAD = re.compile(rb'^\{"' + MARKER.encode() + rb'": (\d+)')
_SEGMENT = re.compile(r"^(?P<service>[a-z0-9_]+)\.(?P<segment>\d+)\.log$")


def snapshot_segment(path: Path) -> int:
    """The journal segment a snapshot file includes (0: none, or a file written without a journal)."""
    try:
        with path.open("rb") as handle:
            match = _MARKER_HEAD.match(handle.read(64))
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


class Journal:
    def __init__(self, directory: Path, *, fsync: bool = True,
                 encode: Callable[[Any], Any] | None = None, decode: Callable[[dict[str, Any]], Any] | None = None
                 ) -> None:
        self.directory = directory
        self.fsync = fsync
        self._encode = encode
        self._decode = decode
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # appends come from the event loop and from MiniStack's worker threads
        self._pending: list[tuple[str, int, bytes]] = []
        self._segments: dict[str, int] = {}
        self._files: dict[tuple[str, int], IO[bytes]] = {}
        self._appended = 0  # sequence number of the last record appended
        self._durable = 0  # ... and of the last one on disk
        self._flushing: asyncio.Future[None] | None = None
        self.bytes_written: dict[str, int] = {}  # per service, since its last rotation
        self.unsnapshotted: dict[str, int] = {}  # records appended per service since its last rotation
        self.records_written = 0
        self.flushes = 0

    # ---- files ----
    def segments(self, service: str) -> list[int]:
        found = []
        for path in self.directory.iterdir():
            match = _SEGMENT.match(path.name)
            if match and match["service"] == service:
                found.append(int(match["segment"]))
        return sorted(found)

    def services(self) -> set[str]:
        return {m["service"] for p in self.directory.iterdir() if (m := _SEGMENT.match(p.name))}

    def _path(self, service: str, segment: int) -> Path:
        return self.directory / f"{service}.{segment:010d}.log"

    def _segment(self, service: str) -> int:
        """The segment new records of a service go to (caller holds the lock)."""
        if service not in self._segments:
            existing = self.segments(service)
            self._segments[service] = (existing[-1] + 1) if existing else 1
        return self._segments[service]

    def continue_after(self, service: str, segment: int) -> None:
        """New records go to a segment after `segment` (what the service's snapshot holds), even when the segment
        files up to it were deleted: a record in a segment the snapshot claims to hold would never be replayed."""
        with self._lock:
            if self._segment(service) <= segment:
                self._segments[service] = segment + 1

    def current_segment(self, service: str) -> int:
        with self._lock:
            return self._segment(service)

    # ---- writing ----
    def append(self, service: str, record: Any) -> int:
        """Queue one record; returns its sequence number. Encoded now: the object may change after this call."""
        line = json.dumps(record, default=self._encode, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        with self._lock:
            self._appended += 1
            self.unsnapshotted[service] = self.unsnapshotted.get(service, 0) + 1
            self._pending.append((service, self._segment(service), line))
            return self._appended

    @property
    def pending(self) -> bool:
        return self._durable < self._appended

    async def sync(self) -> None:
        """Return once every record appended before this call is on disk (fsynced)."""
        target = self._appended
        while self._durable < target:
            if self._flushing is None or self._flushing.done():
                self._flushing = asyncio.ensure_future(self._flush())
            await asyncio.shield(self._flushing)

    async def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            upto = self._appended
        if batch:
            await asyncio.to_thread(self._write, batch)
        self._durable = max(self._durable, upto)

    def flush_now(self) -> None:
        """Synchronous flush, for the end of a run."""
        with self._lock:
            batch, self._pending = self._pending, []
            upto = self._appended
        if batch:
            self._write(batch)
        self._durable = max(self._durable, upto)

    def _write(self, batch: list[tuple[str, int, bytes]]) -> None:
        touched: dict[tuple[str, int], IO[bytes]] = {}
        for service, segment, line in batch:
            key = (service, segment)
            handle = touched.get(key)
            if handle is None:
                with self._lock:
                    handle = self._files.get(key)
                    if handle is None:
                        handle = self._files[key] = self._path(service, segment).open("ab")
                touched[key] = handle
            handle.write(line)
            self.bytes_written[service] = self.bytes_written.get(service, 0) + len(line)
        for handle in touched.values():
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())
        self.records_written += len(batch)
        self.flushes += 1

    # ---- compaction ----
    def rotate(self, service: str) -> int:
        """Close the service's current segment: records appended from now on go to the next. Returns the closed
        one's number, which the snapshot taken at this same moment records."""
        with self._lock:
            closed = self._segment(service)
            self._segments[service] = closed + 1
            self.bytes_written[service] = 0
            self.unsnapshotted[service] = 0
            return closed

    def drop_through(self, service: str, segment: int) -> None:
        """Delete the service's segments up to `segment` (its snapshot now holds them)."""
        for number in self.segments(service):
            if number > segment:
                continue
            with self._lock:
                handle = self._files.pop((service, number), None)
            if handle is not None:
                handle.close()
            self._path(service, number).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            files, self._files = self._files, {}
        for handle in files.values():
            handle.close()

    # ---- replay ----
    def records(self, service: str, after: int) -> Iterator[Any]:
        """The service's records in the segments after `after`, in order."""
        for number in self.segments(service):
            if number <= after:
                continue
            yield from self._read(self._path(service, number))

    def _read(self, path: Path) -> Iterator[Any]:
        data = path.read_bytes()
        lines = data.split(b"\n")
        for index, line in enumerate(lines):
            if not line:
                continue
            try:
                yield json.loads(line, object_hook=self._decode)
            except ValueError:
                if index < len(lines) - 1 and any(lines[index + 1:]):
                    log.error("journal %s: unreadable line %d in the middle; the rest of it is skipped",
                              path.name, index + 1)
                # else: a torn last line, written by a crash before its request was answered
                return
