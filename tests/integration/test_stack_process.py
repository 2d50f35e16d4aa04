"""The local cloud's process: who serves which port, what a crash loses, what a stop waits for.

Each test runs its own throwaway MiniStack (no deploy: the emulator alone) in a temporary stack dir, on a port from
THROWAWAY_PORT or, unset, a free port from the operating system.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from bootstrap.access import ROOT
from bootstrap.emulator import Emulator
from bootstrap.errors import StackError
from tests.support import throwaway_port

pytestmark = pytest.mark.own_stack  # waits on stacks of its own: scheduled first (conftest.py)
TABLE = "CrashTest"


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[list[Emulator]]:
    """Emulators made by the test; each is hard-stopped afterwards, whatever happened."""
    made: list[Emulator] = []
    yield made
    for emulator in made:
        emulator.stop(hard=True)


def new_emulator(emulators: list[Emulator], stack_dir: Path, port: int | None = None) -> Emulator:
    emulator = Emulator(stack_dir.resolve(), port or throwaway_port())
    emulators.append(emulator)
    return emulator


def bootstrap(command: str, emulator: Emulator) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORT": str(emulator.port), "STACK_DIR": str(emulator.stack_dir)}
    return subprocess.run([sys.executable, "-m", "bootstrap", command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def dynamodb(emulator: Emulator):
    return boto3.client("dynamodb", endpoint_url=emulator.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def create_table(emulator: Emulator) -> None:
    dynamodb(emulator).create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "N"}])


def put_items(emulator: Emulator, first: int, count: int, pad: int = 20) -> None:
    client = dynamodb(emulator)
    for start in range(first, first + count, 25):
        items = [{"PutRequest": {"Item": {"k": {"N": str(k)}, "pad": {"S": "x" * pad}}}}
                 for k in range(start, min(start + 25, first + count))]
        client.batch_write_item(RequestItems={TABLE: items})


def count_items(emulator: Emulator) -> int:
    pages = dynamodb(emulator).get_paginator("scan").paginate(TableName=TABLE, Select="COUNT")  # 1 MB a page
    return sum(page["Count"] for page in pages)


def living_members(pgid: int) -> list[int]:
    """Processes of a process group that are not zombies (a zombie is a dead child this test process has not reaped)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_until_all_saved(emulator: Emulator, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not (emulator.identity() or {}).get("allSaved"):
        assert time.monotonic() < deadline, f"changes still unsaved after {seconds}s"
        time.sleep(0.05)


def wait_for_save_after(emulator: Emulator, moment: float, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ((emulator.identity() or {}).get("lastSaveAt") or 0) > moment:
            return
        time.sleep(0.05)
    raise AssertionError(f"no save after {moment} within {seconds}s")


def test_up_into_a_port_served_by_another_stack_is_refused(tmp_path: Path, emulators: list[Emulator]) -> None:
    # GIVEN the MiniStack of one stack dir on a port
    theirs = new_emulator(emulators, tmp_path / "theirs")
    assert theirs.start()
    # WHEN another stack dir is brought up on the same port
    ours = new_emulator(emulators, tmp_path / "ours", theirs.port)
    result = bootstrap("up", ours)
    # THEN it is refused in one line naming the stack that serves the port, and nothing is deployed or written
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"port {theirs.port} is served by the MiniStack of {theirs.stack_dir}" in line
    assert not (ours.stack_dir / "outputs.json").exists()
    # and neither `down` nor `status` of the other stack dir touches or misreports it
    assert bootstrap("down", ours).returncode == 1
    assert theirs.serves_us(theirs.identity())
    assert f"serves another stack ({theirs.stack_dir})" in bootstrap("status", ours).stdout


def test_the_pid_file_names_the_process_that_serves_the_port(tmp_path: Path, emulators: list[Emulator]) -> None:
    emulator = new_emulator(emulators, tmp_path / "stack")
    emulator.start()
    pid = int(emulator.pid_file.read_text())
    assert emulator.identity()["pid"] == pid
    # A hard kill of that pid ends the server: nothing answers any more
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while emulator.healthy(timeout=0.3) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not emulator.healthy()
    # and the next `up` needs no hand work: it starts a new server and says the last run ended uncleanly
    assert emulator.start()
    assert emulator.unclean_end() is not None
    assert emulator.identity()["pid"] == int(emulator.pid_file.read_text()) != pid


def test_a_lost_pid_file_is_recovered_from_the_running_server(tmp_path: Path, emulators: list[Emulator]) -> None:
    emulator = new_emulator(emulators, tmp_path / "stack")
    emulator.start()
    pid = emulator.identity()["pid"]
    emulator.pid_file.unlink()
    assert emulator.start() is False  # already running: ours, asked by identity
    assert int(emulator.pid_file.read_text()) == pid
    assert emulator.stop()
    assert not emulator.healthy()


def test_acknowledged_writes_survive_a_hard_kill_once_saved(tmp_path: Path, emulators: list[Emulator]) -> None:
    emulator = new_emulator(emulators, tmp_path / "stack")
    emulator.start()
    create_table(emulator)
    put_items(emulator, 0, 100)
    acknowledged_at = time.time()
    wait_for_save_after(emulator, acknowledged_at)  # saves follow writes within about a second
    emulator.stop(hard=True)
    assert emulator.start()
    assert count_items(emulator) == 100
    unclean = emulator.unclean_end(forget=True)
    assert unclean is not None and "did not stop cleanly" in unclean.describe()
    assert emulator.unclean_end() is None  # reported once
    # A graceful stop leaves no unclean end behind
    assert emulator.stop()
    assert emulator.start()
    assert emulator.unclean_end() is None


def test_a_kill_in_the_middle_of_a_save_leaves_the_last_whole_state(tmp_path: Path, emulators: list[Emulator],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal is folded into a snapshot as soon as it holds anything: a kill while one is written leaves the
    previous snapshot whole, and the journal after it brings every acknowledged write back."""
    monkeypatch.setenv("STACK_JOURNAL_COMPACT_BYTES", "1")
    monkeypatch.setenv("STACK_JOURNAL_COMPACT_RATIO", "0")
    emulator = new_emulator(emulators, tmp_path / "stack")
    emulator.start()
    create_table(emulator)
    put_items(emulator, 0, 3000, pad=1000)  # ~3 MB: a save takes long enough to be caught in the middle
    wait_for_save_after(emulator, time.time())
    saved = count_items(emulator)
    state_file = emulator.stack_dir / "state" / "dynamodb.json"
    temporary = state_file.with_name(state_file.name + ".tmp")
    caught = False
    for _attempt in range(5):
        put_items(emulator, 10_000 + _attempt * 25, 25, pad=1000)  # a change, so the next tick saves again
        deadline = time.monotonic() + 10
        while not temporary.exists() and time.monotonic() < deadline:
            time.sleep(0.0005)
        if temporary.exists():
            emulator.stop(hard=True)
            caught = True
            break
    assert caught, "never saw a save in progress"
    json.loads(state_file.read_text())  # the file a start reads is whole
    assert emulator.start()
    assert count_items(emulator) == saved + 25 * (_attempt + 1)  # and every acknowledged write is back


def test_down_saves_reports_and_leaves_nothing_running(tmp_path: Path, emulators: list[Emulator]) -> None:
    emulator = new_emulator(emulators, tmp_path / "stack")
    emulator.start()
    create_table(emulator)
    put_items(emulator, 0, 50)
    pid = emulator.identity()["pid"]
    result = bootstrap("down", emulator)
    assert result.returncode == 0, result.stderr
    assert f"Stopping MiniStack (pid {pid}): saving its state first" in result.stdout
    assert "stopped gracefully" in result.stdout
    assert living_members(pid) == []  # no process of its group (server or Lambda worker) is left
    assert not emulator.pid_file.exists()
    assert emulator.start()
    assert emulator.unclean_end() is None
    assert count_items(emulator) == 50


def test_a_running_stack_is_never_started_twice_on_another_port(tmp_path: Path, emulators: list[Emulator]) -> None:
    emulator = new_emulator(emulators, tmp_path / "stack")
    emulator.start()
    pid = emulator.identity()["pid"]
    # the same stack dir on another port: a second server would overwrite the first one's saves
    other_port = Emulator(emulator.stack_dir, emulator.port + 1 if emulator.port < 65535 else emulator.port - 1)
    with pytest.raises(StackError, match=f"is running but does not answer on port {other_port.port}; it serves port "
                                         f"{emulator.port}: `make down PORT={emulator.port}`"):
        other_port.start()
    assert emulator.identity()["pid"] == pid  # untouched


def test_a_fresh_stack_comes_back_whole_after_a_crash(tmp_path: Path, emulators: list[Emulator]) -> None:
    """Everything `up` made is saved while running: after a hard kill and `up`, nothing needs re-deploying."""
    emulator = new_emulator(emulators, tmp_path / "stack")
    first = bootstrap("up", emulator)
    assert first.returncode == 0, first.stderr
    wait_until_all_saved(emulator)
    emulator.stop(hard=True)
    second = bootstrap("up", emulator)
    assert second.returncode == 0, second.stderr
    assert "did not stop cleanly" in second.stdout
    assert "Changes: none" in second.stdout, second.stdout


def test_state_made_by_the_previous_deployer_is_refused_with_one_line(tmp_path: Path,
                                                                      emulators: list[Emulator]) -> None:
    """Before the template, the bootstrap made the table and the pool itself: no stack owns them. `make up` then says
    `make reset` in one line and leaves them as they are (CloudFormation would otherwise take them over)."""
    emulator = new_emulator(emulators, tmp_path / "old")
    emulator.start()
    client = dynamodb(emulator)
    client.create_table(TableName="Albums", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "Rank", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "Rank", "AttributeType": "N"}])
    client.put_item(TableName="Albums", Item={"Rank": {"N": "1"}, "title": {"S": "kept"}})
    result = bootstrap("up", emulator)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: table Albums exist") and "make reset" in line, line
    assert client.get_item(TableName="Albums", Key={"Rank": {"N": "1"}})["Item"]["title"]["S"] == "kept"
