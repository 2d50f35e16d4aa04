"""The write-ahead journal (bootstrap/journal.py): group commit, segments and their rotation, and what a start reads
back, torn last line included."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bootstrap.journal import MARKER, Journal, snapshot_segment


def test_one_sync_writes_everything_appended_before_it_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=True)
    for n in range(100):
        journal.append("dynamodb", ["i", n])
    journal.append("cognito", ["u", "ann"])
    assert journal.pending
    asyncio.run(journal.sync())
    assert not journal.pending
    assert journal.flushes == 1  # one group commit for all 101 records
    assert list(journal.records("dynamodb", after=0)) == [["i", n] for n in range(100)]
    assert list(journal.records("cognito", after=0)) == [["u", "ann"]]
    journal.close()


def test_waiters_share_a_flush(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=True)

    async def many() -> None:
        async def one(n: int) -> None:
            journal.append("dynamodb", ["i", n])
            await journal.sync()
        await asyncio.gather(*(one(n) for n in range(50)))

    asyncio.run(many())
    assert sorted(r[1] for r in journal.records("dynamodb", after=0)) == list(range(50))
    assert journal.flushes < 50
    journal.close()


def test_rotation_splits_what_a_snapshot_holds_from_what_comes_after(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=False)
    journal.append("dynamodb", ["i", 1])
    closed = journal.rotate("dynamodb")  # a snapshot taken now holds record 1
    journal.append("dynamodb", ["i", 2])
    journal.flush_now()
    assert list(journal.records("dynamodb", after=closed)) == [["i", 2]]
    journal.drop_through("dynamodb", closed)
    assert journal.segments("dynamodb") == [closed + 1]
    journal.close()


def test_a_new_run_never_writes_into_a_segment_its_snapshot_claims(tmp_path: Path) -> None:
    """After a compaction deleted every segment file, numbering must go on after the snapshot's marker."""
    Journal(tmp_path, fsync=False).close()
    journal = Journal(tmp_path, fsync=False)
    journal.continue_after("dynamodb", 7)
    journal.append("dynamodb", ["i", 1])
    journal.flush_now()
    assert journal.segments("dynamodb") == [8]
    assert list(journal.records("dynamodb", after=7)) == [["i", 1]]
    journal.close()


def test_a_torn_last_line_ends_the_replay_and_nothing_before_it_is_lost(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=False)
    journal.append("dynamodb", ["i", 1])
    journal.append("dynamodb", ["i", 2])
    journal.flush_now()
    journal.close()
    (segment,) = tmp_path.glob("dynamodb.*.log")
    with segment.open("ab") as handle:
        handle.write(b'["i", 3, {"unfinis')  # the crash came in the middle of a write nobody was answered for
    assert list(Journal(tmp_path).records("dynamodb", after=0)) == [["i", 1], ["i", 2]]


def test_the_snapshot_marker_is_read_from_the_head_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dynamodb.json"
    path.write_text(json.dumps({MARKER: 42, "__ministack_format__": 2, "payload": {"tables": {}}}))
    assert snapshot_segment(path) == 42
    path.write_text(json.dumps({"__ministack_format__": 2, "payload": {}}))  # written without a journal
    assert snapshot_segment(path) == 0
    assert snapshot_segment(tmp_path / "absent.json") == 0
