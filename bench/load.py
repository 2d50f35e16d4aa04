"""6. Load: N concurrent simulated users (threads, each its own confirmed Cognito user) doing mixed CRUD for a fixed
time against the bench stack (loopback only; bounded in users, time and requests), then a consistency audit that
reads DynamoDB directly: every acknowledged create/update/delete is in the table, nothing else is, and the listing
(catalog pages) shows every album exactly once in ascending Rank, and the catalog holds exactly the albums.

Each user owns a rank range (ranks OWN_BASE + 1000*i + 1 .. +OWN_SPAN) where its own model is exact; all
users also fight over a small contested range with creates and versioned updates (409s expected), where the audit
checks that no two acknowledged writes claim the same rank/version and that the table holds the last one.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from albums.catalog import entry_of
from albums.domain import FIELDS, PageRequest
from albums.repository import AlbumRepository
from albums.table import DIRECTORY_RANK, album_from_item, catalog_entries
from bench.common import Row, album_body, summary_ms
from bench.context import Bench

SECTION = "6 load"
OWN_BASE = 600_000
OWN_SPAN = 300
CONTESTED = range(699_001, 699_011)
MAX_REQUESTS_PER_USER = 5_000
MIX = (("get_page", 15), ("get_one", 10), ("create_own", 22), ("update_own", 18), ("delete_own", 10),
       ("create_contested", 10), ("update_contested", 15))
METHOD_OF = {"get_page": "GET page", "get_one": "GET one", "create_own": "POST", "update_own": "PUT",
             "delete_own": "DELETE", "create_contested": "POST", "update_contested": "PUT"}


@dataclass
class Sample:
    method: str
    status: int  # 0 = no HTTP answer (exception)
    seconds: float
    at: float  # seconds since the timed window opened (negative during warm-up)


@dataclass
class Worker:
    index: int
    user: Any  # tests.clients.User
    api: Any  # tests.clients.Api
    seed: int
    model: dict[int, dict] = field(default_factory=dict)  # own rank -> the album as last acknowledged
    uncertain: set[int] = field(default_factory=set)  # ranks whose last write got no clear answer
    contested_acks: list[dict] = field(default_factory=list)
    contested_uncertain: set[int] = field(default_factory=set)
    samples: list[Sample] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    counter: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.own = range(OWN_BASE + 1000 * self.index + 1, OWN_BASE + 1000 * self.index + 1 + OWN_SPAN)
        self.window_start = time.perf_counter()

    # --- one HTTP call, timed ----------------------------------------------------------------------------------

    def _call(self, method: str, send: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            response = send()
        except Exception as error:  # a timeout or reset: outcome unknown
            self.samples.append(Sample(method, 0, time.perf_counter() - started, started - self.window_start))
            self.anomalies.append(f"{method}: {type(error).__name__}")
            return None
        self.samples.append(Sample(method, response.status_code, time.perf_counter() - started,
                                   started - self.window_start))
        return response

    def _body(self, rank: int) -> dict:
        self.counter += 1
        return album_body(rank, Album=f"Load u{self.index} n{self.counter}", Artist=f"User {self.index}",
                          Year=self.rng.randint(1950, 2020))

    # --- operations --------------------------------------------------------------------------------------------

    def step(self, op: str) -> None:
        getattr(self, op)()

    def get_page(self) -> None:
        response = self._call("GET page", lambda: self.api.get(limit=50))
        self._expect(response, {200}, "GET page")

    def get_one(self) -> None:
        rank = self.rng.choice([*self.model] or list(CONTESTED))
        response = self._call("GET one", lambda: self.api.get(rank=rank))
        self._expect(response, {200, 404}, "GET one")

    def create_own(self) -> None:
        free = [r for r in self.own if r not in self.model and r not in self.uncertain]
        if not free:
            return self.update_own()
        rank = self.rng.choice(free)
        response = self._call("POST", lambda: self.api.post(self._body(rank)))
        if self._expect(response, {201}, f"POST own {rank}"):
            self.model[rank] = response.json()
        else:
            self.uncertain.add(rank)
        return None

    def update_own(self) -> None:
        if not self.model:
            return self.create_own()
        rank = self.rng.choice(list(self.model))
        body = {k: v for k, v in self._body(rank).items() if k in ("Album", "Year")}
        body["version"] = self.model[rank]["version"]
        response = self._call("PUT", lambda: self.api.put(rank, body))
        if self._expect(response, {200}, f"PUT own {rank}"):
            self.model[rank] = response.json()
        else:
            self.uncertain.add(rank)
            self.model.pop(rank, None)
        return None

    def delete_own(self) -> None:
        if not self.model:
            return self.create_own()
        rank = self.rng.choice(list(self.model))
        version = self.model[rank]["version"]
        response = self._call("DELETE", lambda: self.api.delete(rank, version=version))
        if not self._expect(response, {204}, f"DELETE own {rank}"):
            self.uncertain.add(rank)
        self.model.pop(rank, None)
        return None

    def create_contested(self) -> None:
        rank = self.rng.choice(CONTESTED)
        response = self._call("POST", lambda: self.api.post(self._body(rank)))
        if self._expect(response, {201, 409}, f"POST contested {rank}"):
            if response.status_code == 201:
                self.contested_acks.append({"kind": "create", "rank": rank, "album": response.json()})
        else:
            self.contested_uncertain.add(rank)

    def update_contested(self) -> None:
        rank = self.rng.choice(CONTESTED)
        current = self._call("GET one", lambda: self.api.get(rank=rank))
        if not self._expect(current, {200, 404}, f"GET contested {rank}") or current.status_code == 404:
            return self.create_contested()
        body = {k: v for k, v in self._body(rank).items() if k in ("Album", "Year")}
        body["version"] = current.json()["version"]
        response = self._call("PUT", lambda: self.api.put(rank, body))
        if self._expect(response, {200, 409}, f"PUT contested {rank}"):
            if response.status_code == 200:
                self.contested_acks.append({"kind": "update", "rank": rank, "album": response.json()})
        else:
            self.contested_uncertain.add(rank)
        return None

    def _expect(self, response: Any, statuses: set[int], what: str) -> bool:
        if response is None:
            return False
        if response.status_code not in statuses:
            self.anomalies.append(f"{what}: {response.status_code} {response.text[:200]}")
            return False
        return True

    # --- the thread ----------------------------------------------------------------------------------------------

    def run(self, barrier: threading.Barrier, window: dict, seconds: float) -> None:
        try:
            for op in ("get_page", "get_one", "create_own", "update_own", "create_own", "delete_own"):
                self.step(op)  # warm-up: every function gets concurrent workers before the clock starts
        finally:
            barrier.wait(timeout=120)
        self.window_start = window["start"]
        self.warmup_requests = len(self.samples)
        self.samples = []  # warm-up requests are not reported (their writes are still audited)
        deadline = window["start"] + seconds
        ops, weights = zip(*MIX, strict=True)
        while time.perf_counter() < deadline and len(self.samples) < MAX_REQUESTS_PER_USER:
            self.step(self.rng.choices(ops, weights)[0])


def make_users(bench: Bench, count: int) -> list[Any]:
    from tests.clients import confirmed_user

    return [confirmed_user(f"load{i}") for i in range(count)]


def run_load(bench: Bench) -> tuple[list[Worker], float]:
    from tests.clients import Api

    api_url = bench.outputs["ApiUrl"]
    if urlparse(api_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise RuntimeError(f"load runs against loopback only, not {api_url}")
    users = make_users(bench, bench.config.load_users)
    workers = [Worker(i, user, Api(user), seed=1000 + i) for i, user in enumerate(users)]
    window: dict[str, float] = {}
    barrier = threading.Barrier(len(workers), action=lambda: window.setdefault("start", time.perf_counter()))
    threads = [threading.Thread(target=w.run, args=(barrier, window, bench.config.load_seconds), daemon=True,
                                name=f"load-user-{w.index}") for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=bench.config.load_seconds + 180)
        if thread.is_alive():
            raise RuntimeError(f"{thread.name} did not finish in time")
    elapsed = max((s.at + s.seconds for w in workers for s in w.samples), default=0.0)
    return workers, elapsed


# --- audit -------------------------------------------------------------------------------------------------------


def scan_all(table: Any) -> dict[int, dict]:
    items, kwargs = {}, {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items.update({int(item["Rank"]): item for item in page["Items"]})
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def same(item: dict, album: dict) -> bool:
    """The stored item, read as the API reads it, is the acknowledged album: its version and every field."""
    stored = album_from_item(item).to_json()
    return all(stored.get(key) == album.get(key) for key in ("version", *(field.name for field in FIELDS)))


def audit_own(workers: list[Worker], items: dict[int, dict], report: Counter, problems: list[str]) -> None:
    """Own ranges: one writer each, so the table must equal the user's model exactly."""
    for worker in workers:
        for rank in worker.own:
            expected, actual = worker.model.get(rank), items.get(rank)
            if expected is None:
                if rank in worker.uncertain:
                    report["own_uncertain_skipped"] += 1
                elif actual is not None:
                    report["own_phantom"] += 1
                    problems.append(f"rank {rank}: in the table, but never created or its delete was acknowledged")
                continue
            if actual is None:
                report["own_lost"] += 1
                problems.append(f"rank {rank}: acknowledged at version {expected['version']}, missing")
                continue
            report["own_checked"] += 1
            if not same(actual, expected) or actual["updatedBy"] != worker.user.sub:
                report["own_mismatch"] += 1
                problems.append(f"rank {rank}: table v{actual['version']} != acknowledged v{expected['version']}")


def audit_contested(workers: list[Worker], items: dict[int, dict], report: Counter, problems: list[str]) -> None:
    """Contested ranks: at most one acknowledged create, each version acknowledged once, the table holds the last."""
    acks: dict[int, list[dict]] = defaultdict(list)
    uncertain = set().union(*(w.contested_uncertain for w in workers))
    for worker in workers:
        for ack in worker.contested_acks:
            acks[ack["rank"]].append(ack)
    for rank in CONTESTED:
        creates = sum(1 for a in acks[rank] if a["kind"] == "create")
        if creates > 1:
            report["contested_duplicate_create"] += 1
            problems.append(f"contested rank {rank}: {creates} creates acknowledged")
        versions = Counter(a["album"]["version"] for a in acks[rank])
        duplicated = sorted(v for v, n in versions.items() if n > 1)
        if duplicated:
            report["contested_lost_update"] += len(duplicated)
            problems.append(f"contested rank {rank}: versions {duplicated} acknowledged more than once")
        actual = items.get(rank)
        if not acks[rank]:
            report["contested_phantom"] += actual is not None and rank not in uncertain
            continue
        last = max(acks[rank], key=lambda a: a["album"]["version"])["album"]
        report["contested_ranks_checked"] += 1
        if actual is None or (not same(actual, last) and rank not in uncertain):
            report["contested_mismatch"] += 1
            problems.append(f"contested rank {rank}: table {actual and actual['version']} != last ack "
                            f"v{last['version']}")


def audit_listing(table: Any, items: dict[int, dict], catalog: dict[int, list], report: Counter) -> None:
    """The listing (through the code the API uses) shows every album once, in ascending Rank, and the catalog the
    listing answers from holds exactly the albums of the table, each with its current keys."""
    repository, token, listed = AlbumRepository(table), None, []
    while True:
        page = repository.list_page(PageRequest(limit=100, next_token=token))
        listed.extend(album.rank for album in page.albums)
        token = page.next_token
        if token is None:
            break
    report["listed"] = len(listed)
    report["table_albums"] = len(items)
    report["listing_duplicates"] = len(listed) - len(set(listed))
    report["listing_out_of_order"] = sum(1 for a, b in itertools.pairwise(listed) if b <= a)
    report["listing_vs_table_diff"] = len(set(listed) ^ set(items))
    expected = {rank: entry_of(album_from_item(item)).stored() for rank, item in items.items()}
    report["catalog_wrong_entries"] = sum(1 for rank in set(expected) | set(catalog)
                                          if catalog.get(rank) != expected.get(rank))


def audit(bench: Bench, workers: list[Worker]) -> dict[str, Any]:
    table = bench.table()
    items = scan_all(table)
    items.pop(DIRECTORY_RANK, None)
    catalog: dict[int, list] = {}
    for rank in [rank for rank in items if rank < DIRECTORY_RANK]:
        catalog.update(catalog_entries(items.pop(rank)))
    report: Counter = Counter()
    problems: list[str] = []
    audit_own(workers, items, report, problems)
    audit_contested(workers, items, report, problems)
    audit_listing(table, items, catalog, report)
    result: dict[str, Any] = dict(report)
    result["problems"] = problems[:20]
    return result


def run(bench: Bench) -> tuple[list[Row], dict]:
    started = time.perf_counter()
    workers, elapsed = run_load(bench)
    samples = [s for w in workers for s in w.samples]
    audit_started = time.perf_counter()
    result = audit(bench, workers)
    audit_seconds = time.perf_counter() - audit_started
    statuses = Counter(s.status for s in samples)
    five_xx = sum(n for status, n in statuses.items() if status >= 500)
    no_answer = statuses.get(0, 0)
    by_method = {m: summary_ms(s.seconds for s in samples if s.method == m)
                 for m in ("GET page", "GET one", "POST", "PUT", "DELETE")}
    overall = summary_ms(s.seconds for s in samples)
    acknowledged_writes = sum(1 for s in samples if s.method in ("POST", "PUT", "DELETE") and s.status in
                              (200, 201, 204))
    lost = sum(result.get(k, 0) for k in ("own_lost", "own_phantom", "own_mismatch", "contested_duplicate_create",
                                          "contested_lost_update", "contested_mismatch", "contested_phantom"))
    listing_bad = sum(result.get(k, 0) for k in ("listing_duplicates", "listing_out_of_order",
                                                 "listing_vs_table_diff", "catalog_wrong_entries"))
    anomalies = [a for w in workers for a in w.anomalies]
    raw = {
        "users": len(workers), "window_s": bench.config.load_seconds, "elapsed_s": round(elapsed, 1),
        "requests": len(samples), "requests_per_s": round(len(samples) / elapsed, 1) if elapsed else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "latency_ms": overall,
        "latency_ms_by_method": by_method, "acknowledged_writes": acknowledged_writes, "audit": result,
        "audit_s": round(audit_seconds, 1), "anomalies": anomalies[:30], "anomaly_count": len(anomalies),
        "section_s": round(time.perf_counter() - started, 1),
    }
    rows = [
        Row(SECTION, f"{len(workers)} users x {bench.config.load_seconds:.0f} s mixed CRUD: requests/s",
            raw["requests_per_s"], "req/s", note=f"{len(samples)} requests"),
        Row(SECTION, "latency p50 / p95 (all requests)", f"{overall['p50']} / {overall['p95']}", "ms",
            note=" ".join(f"{m} p95 {v['p95']}" for m, v in by_method.items())),
        Row(SECTION, "5xx responses (goal 0)", five_xx, note=f"no answer: {no_answer}; statuses "
            + ", ".join(f"{k}:{v}" for k, v in sorted(statuses.items()))),
        Row(SECTION, "409 in the contested range (expected)", statuses.get(409, 0)),
        Row(SECTION, "audit: acknowledged writes lost / phantom / mismatched", lost,
            note=f"{acknowledged_writes} acknowledged writes; {result.get('own_checked', 0)} own albums and "
                 f"{result.get('contested_ranks_checked', 0)} contested ranks checked against DynamoDB"),
        Row(SECTION, "audit: listing duplicates / out of order / missing, wrong catalog entries", listing_bad,
            note=f"{result['listed']} listed = {result['table_albums']} in table; catalog exact: "
                 f"{result.get('catalog_wrong_entries', 0) == 0}"),
    ]
    return rows, raw
