"""3. Scale: one page (limit 50; the first page and a middle page) at 500 albums and after a bulk seed to 50,000.

Measured through the API (what a user waits for) and through the repository straight against DynamoDB (what the
table layout costs); the goal is a page cost independent of table size (50k / 500 <= 1.5).
"""

from __future__ import annotations

import time
from typing import Any

from albums import table as albums_table
from albums.repository import AlbumRepository, encode_page_token
from bench.common import Row, summary_ms
from bench.context import Bench

SECTION = "3 scale"
PAGE_SAMPLES = 20
GENRES = ("Rock", "Jazz", "Soul", "Pop", "Electronic", "Folk", "Hip Hop", "Blues")


def page_timings(bench: Bench, middle_rank: int) -> dict[str, dict]:
    api = bench.api()
    repository = AlbumRepository(bench.table())
    middle = encode_page_token(middle_rank)
    results = {}
    for label, token in (("first", None), ("middle", middle)):
        params = {"limit": 50} if token is None else {"limit": 50, "nextToken": token}
        for _ in range(3):  # warm the worker and the emulator's index membership after a bulk write
            api.get(**params)
        api_times, direct_times = [], []
        for _ in range(PAGE_SAMPLES):
            started = time.perf_counter()
            response = api.get(**params)
            api_times.append(time.perf_counter() - started)
            if response.status_code != 200 or len(response.json()["items"]) != 50:
                raise RuntimeError(f"{label} page answered {response.status_code} / not 50 items")
            started = time.perf_counter()
            page = repository.list_page(50, token)
            direct_times.append(time.perf_counter() - started)
            if len(page.albums) != 50:
                raise RuntimeError(f"{label} page through the repository has {len(page.albums)} albums")
        results[label] = {"api": summary_ms(api_times), "direct": summary_ms(direct_times)}
    return results


def count_albums(bench: Bench) -> int:
    table = bench.table()
    count, kwargs = 0, {"Select": "COUNT", "FilterExpression": "#r > :zero",
                        "ExpressionAttributeNames": {"#r": "Rank"}, "ExpressionAttributeValues": {":zero": 0}}
    while True:
        page = table.scan(**kwargs)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bulk_rows(first: int, last: int) -> list[dict[str, Any]]:
    return [
        {"Rank": rank, "Album": f"Bulk album {rank}", "Artist": f"Bulk artist {rank % 997}",
         "Genre": GENRES[rank % len(GENRES)], "Year": 1950 + rank % 75}
        for rank in range(first, last + 1)
    ]


class Scale:
    """Split so the 500-album figure is taken before the load test adds albums. Between 500 and 50,000 there is a
    stop at 5,000: at 500 the page's index partition (bucket 0) holds 500 albums, from 5,000 on every bucket is full
    (1,000), so 50k/5k isolates table size from partition fill."""

    INTERMEDIATE = 5_000

    def __init__(self) -> None:
        self.small: dict[str, Any] = {}
        self.intermediate: dict[str, Any] = {}
        self.large: dict[str, Any] = {}
        self.seed: dict[str, Any] = {}

    def measure_small(self, bench: Bench) -> None:
        self.small = {"albums": count_albums(bench), "pages": page_timings(bench, middle_rank=250)}

    def grow_and_measure(self, bench: Bench) -> None:
        target = bench.config.scale_albums
        stops = [n for n in (self.INTERMEDIATE, target) if n > 500]
        written, seconds, first = 0, 0.0, 501
        for stop in stops:
            rows = bulk_rows(first, stop)
            started = time.perf_counter()
            written += albums_table.seed_albums(bench.table(), rows, seeded_by="bench")
            seconds += time.perf_counter() - started
            first = stop + 1
            figures = {"albums": count_albums(bench), "pages": page_timings(bench, middle_rank=stop // 2)}
            if stop == target:
                self.large = figures
            else:
                self.intermediate = figures
        self.seed = {"written": written, "seconds": round(seconds, 1), "items_per_s": round(written / seconds)}

    def rows(self) -> list[Row]:
        if not self.small:
            return []
        rows = []
        small_n = self.small["albums"]
        for page in ("first", "middle"):
            for path, label in (("api", "API"), ("direct", "repository->DynamoDB")):
                small = self.small["pages"][page][path]
                if not self.large:
                    rows.append(Row(SECTION, f"{page} page, {label} p50 @ {small_n:,} albums", small["p50"], "ms",
                                    note=f"p95 {small['p95']} ms"))
                    continue
                large = self.large["pages"][page][path]
                note = f"p95 {large['p95']}, min {large['min']} ms; goal <= 1.5x"
                if self.intermediate:
                    mid = self.intermediate["pages"][page][path]
                    note += (f"; @ {self.intermediate['albums']:,}: {mid['p50']} ms -> 50k/5k "
                             f"{large['p50'] / mid['p50']:.2f}x")
                rows.append(Row(SECTION, f"{page} page, {label} p50 @ {self.large['albums']:,} albums", large["p50"],
                                "ms", small["p50"], f"@ {small_n:,} albums", note))
        if self.seed:
            rows.append(Row(SECTION, "bulk seed (seed_albums, batch writes)", self.seed["items_per_s"], "items/s",
                            note=f"{self.seed['written']:,} albums in {self.seed['seconds']} s"))
        return rows

    def raw(self) -> dict[str, Any]:
        return {"small": self.small, "intermediate": self.intermediate, "large": self.large, "seed": self.seed}
