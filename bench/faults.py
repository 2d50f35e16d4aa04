"""7. Faults: a graceful stop + restart while idle keeps every user and album; a hard kill at a random moment after a
few acknowledged writes loses only what the stack's server had not saved yet (it saves about every second after a
change), which this measures rather than assumes. Throttling retries live in the repository layer and are unit-tested
(tests/unit/test_retry.py, botocore stubs); they are referenced here, not re-run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import time
from typing import Any

from bench.common import ROOT, Row, album_body, ms, timed
from bench.context import Bench, directory_size_mb

SECTION = "7 faults"
HARD_KILL_RANKS = range(698_001, 698_006)
RETRY_TESTS = "tests/unit/test_retry.py"


def count_users(bench: Bench) -> int:
    cognito = bench.client("cognito-idp")
    pool = bench.outputs["UserPoolId"]
    count, kwargs = 0, {"UserPoolId": pool, "Limit": 60}
    while True:
        page = cognito.list_users(**kwargs)
        count += len(page["Users"])
        if not page.get("PaginationToken"):
            return count
        kwargs["PaginationToken"] = page["PaginationToken"]


def table_digest(bench: Bench) -> tuple[int, str]:
    """(albums, sha256 of every item): a restart must give back exactly the same table, not just as many rows."""
    table, kwargs = bench.table(), {"ConsistentRead": True}
    items: list[dict] = []
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    lines = sorted(json.dumps(item, sort_keys=True, default=_plain) for item in items)
    albums = sum(1 for item in items if int(item["Rank"]) > 0)  # Rank 0 is the directory, below 0 the catalog
    return albums, hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _plain(value: Any) -> Any:
    return sorted(int(v) for v in value) if isinstance(value, set) else str(value)


def snapshot(bench: Bench) -> dict[str, Any]:
    started = time.perf_counter()
    albums, digest = table_digest(bench)
    return {"users": count_users(bench), "albums": albums, "digest": digest,
            "read_s": round(time.perf_counter() - started, 1)}


def graceful(bench: Bench) -> dict[str, Any]:
    before = snapshot(bench)
    stop_s, _ = timed(bench.emulator.stop)
    state_mb = directory_size_mb(bench.config.stack_dir / "state")
    start_s, _ = timed(bench.emulator.start)
    after = snapshot(bench)
    from tests.clients import sign_in

    sign_in(bench.user)  # the user can still sign in (the signing key persisted with the state)
    first_call_s, response = timed(lambda: bench.api().get(rank=1))
    return {"before": before, "after": after, "stop_s": round(stop_s, 2), "start_s": round(start_s, 2),
            "state_mb": state_mb, "first_api_call_after_restart_ms": ms(first_call_s),
            "first_api_call_status": response.status_code}


def hard_kill(bench: Bench) -> dict[str, Any]:
    from tests.clients import confirmed_user

    api = bench.api()
    acknowledged: list[str] = []
    for rank in HARD_KILL_RANKS:
        if api.post(album_body(rank, Album=f"Crash test {rank}")).status_code == 201:
            acknowledged.append(f"create {rank}")
    seed_album = api.get(rank=2).json()
    updated = api.put(2, {"Album": seed_album["Album"] + " (edited before crash)", "version": seed_album["version"]})
    if updated.status_code == 200:
        acknowledged.append("update 2")
    if api.delete(3).status_code == 204:
        acknowledged.append("delete 3")
    new_user = confirmed_user("crash")
    acknowledged.append("sign-up " + new_user.email)
    # A kill at a random moment 0-1.5 s after the last acknowledged write: the server saves at most every second
    # after a change (longer for a big state: 2x the last save's duration), so the last moment may be lost.
    kill_after_s = round(random.uniform(0.0, 1.5), 2)
    time.sleep(kill_after_s)
    bench.emulator.stop(hard=True)
    start_s, _ = timed(bench.emulator.start)
    unclean = bench.emulator.unclean_end(forget=True)

    survived: list[str] = []
    for rank in HARD_KILL_RANKS:
        if api.get(rank=rank).status_code == 200:
            survived.append(f"create {rank}")
    if api.get(rank=2).json().get("version") == seed_album["version"] + 1:
        survived.append("update 2")
    if api.get(rank=3).status_code == 404:
        survived.append("delete 3")
    cognito = bench.client("cognito-idp")
    users = cognito.list_users(UserPoolId=bench.outputs["UserPoolId"],
                               Filter=f'email = "{new_user.email}"')["Users"]
    if users:
        survived.append("sign-up " + new_user.email)
    lost = [a for a in acknowledged if a not in survived]
    return {"acknowledged": acknowledged, "survived": survived, "lost": lost, "restart_s": round(start_s, 2),
            "kill_after_s": kill_after_s, "unclean_end_reported": unclean.describe() if unclean else None}


def frozen_function(bench: Bench) -> dict[str, Any]:
    """The GET function's worker frozen (SIGSTOP) during a call: the function times out (10 s) and API Gateway
    answers on its own. What does the client get?"""
    api = bench.api()
    api.get(rank=1)  # a warm worker to freeze
    workers = bench.emulator.lambda_workers("albums-get")
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        seconds, response = timed(lambda: api.get(rank=1))
    finally:
        for pid in workers:
            with contextlib.suppress(OSError):  # MiniStack ends a timed-out worker, as AWS its environment
                os.kill(pid, signal.SIGCONT)
    after = api.get(rank=1).status_code
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    return {"workers_frozen": len(workers), "status": response.status_code, "seconds": round(seconds, 1),
            "cors": "Access-Control-Allow-Origin" in response.headers, "code": (body.get("error") or {}).get("code"),
            "next_call_status": after}


def run(bench: Bench) -> tuple[list[Row], dict]:
    g = graceful(bench)
    h = hard_kill(bench)
    f = frozen_function(bench)
    retry_tests = (ROOT / RETRY_TESTS).exists()
    raw = {"graceful": g, "hard_kill": h, "frozen_function": f,
           "throttling_retry_tests": RETRY_TESTS if retry_tests else None}
    kept = g["before"]["digest"] == g["after"]["digest"] and g["before"]["users"] == g["after"]["users"]
    rows = [
        Row(SECTION, "graceful stop + restart (idle): users / albums kept",
            f"{g['after']['users']}/{g['before']['users']} users, {g['after']['albums']:,}/"
            f"{g['before']['albums']:,} albums", note="identical table (sha256 of every item)" if kept else
            "TABLE DIFFERS after restart"),
        Row(SECTION, "  graceful stop / restart to healthy", f"{g['stop_s']} / {g['start_s']}", "s",
            note=f"state on disk {g['state_mb']} MB; first API call after restart "
                 f"{g['first_api_call_after_restart_ms']} ms (cold, {g['first_api_call_status']})"),
        Row(SECTION, "hard kill (SIGKILL) at a random moment after acknowledged writes: lost", f"{len(h['lost'])} of "
            f"{len(h['acknowledged'])}", note=f"killed {h['kill_after_s']} s after the last write; lost: "
            + (", ".join(h["lost"]) or "nothing") + f"; restart {h['restart_s']} s; next start reports the unclean "
            + ("end" if h["unclean_end_reported"] else "end: NOT REPORTED")),
        Row(SECTION, "function timeout (worker frozen): what the client gets",
            f"{f['status']} {f['code']}, {'with' if f['cors'] else 'WITHOUT'} CORS", "",
            note=f"after {f['seconds']} s (10 s function timeout); next call {f['next_call_status']}; MiniStack "
                 "alone answers 502 without CORS and with its own error text"),
        Row(SECTION, "DynamoDB throttling / transient errors retried", "unit-tested" if retry_tests else "not found",
            note=f"{RETRY_TESTS} (botocore stubs); not re-run here"),
    ]
    return rows, raw


