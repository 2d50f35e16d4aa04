"""3. Scale: what a listing costs at 500, 5,000 and 50,000 albums — the Rank-order page, a first page in every other
order, a search, the totals — each against floors measured at the same moment: a raw 50-item read of the same
albums from the same emulator, and the Rank-order page at the same size (and at 500).

Goals (issue 9): any sorted first page <= 1.5x the Rank page at the same size, and <= 1.5x at 50,000 vs 500; a
search's first results <= 1 s at 50,000; totals <= 2x a page; the Rank page through the API <= 3x the raw read.
"""

from __future__ import annotations

import time
from typing import Any

from albums.catalog import Entry, encode_page_token
from albums.domain import SORT_FIELDS, PageRequest
from albums.repository import AlbumRepository
from bench.common import Row, album_body, summary_ms
from bench.context import Bench
from bootstrap.seeding import seed_albums

SECTION = "3 scale"
SAMPLES = 15
GENRES = ("Rock", "Jazz", "Soul", "Pop", "Electronic", "Folk", "Hip Hop", "Blues")  # the bulk albums' (see SEARCH)
# A first page in every order the API offers (the field table's sortable fields) but Rank's, measured apart; the
# directions alternate.
ORDERS = tuple((name, ("asc", "desc")[i % 2]) for i, name in enumerate(n for n in SORT_FIELDS if n != "Rank"))
SEARCH = "rock 1967"  # matches seed albums and, at every size, a growing share of the bulk ones


def timed(call, samples: int = SAMPLES) -> dict[str, Any]:
    for _ in range(3):  # warm the worker and its catalog after a bulk write
        call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return summary_ms(times)


def api_page(bench: Bench, **params: Any):
    api = bench.api()

    def call() -> None:
        response = api.get(**params)
        if response.status_code != 200:
            raise RuntimeError(f"GET {params} answered {response.status_code}: {response.text[:200]}")

    return call


def measure(bench: Bench, middle_rank: int) -> dict[str, Any]:
    table = bench.table()
    client = table.meta.client
    repository = AlbumRepository(table)
    first_fifty = [{"Rank": rank} for rank in range(1, 51)]
    middle = encode_page_token(PageRequest(limit=50, next_token=None), Entry(middle_rank, (), ()))  # by Rank
    cold_started = time.perf_counter()
    api_page(bench, limit=50)()  # the function's first listing after a bulk write re-reads every changed bucket
    figures: dict[str, Any] = {
        "albums": len(repository.refresh_catalog()),
        "catalog_reload_ms": round((time.perf_counter() - cold_started) * 1000, 1),
        "raw_read": timed(lambda: client.batch_get_item(RequestItems={table.name: {"Keys": first_fifty}})),
        "rank_api": timed(api_page(bench, limit=50)),
        "rank_middle_api": timed(api_page(bench, limit=50, nextToken=middle)),
        "rank_in_process": timed(lambda: repository.list_page(PageRequest(limit=50, next_token=None))),
        "totals_api": timed(api_page(bench, limit=1)),
        "search_api": timed(api_page(bench, limit=50, q=SEARCH)),
        "search_in_process": timed(
            lambda: repository.list_page(PageRequest(limit=50, next_token=None, words=tuple(SEARCH.split())))),
    }
    for field, order in ORDERS:
        figures[f"{field}_{order}_api"] = timed(api_page(bench, limit=50, sort=field, order=order))
    return figures


def count_albums(bench: Bench) -> int:
    return len(AlbumRepository(bench.table()).refresh_catalog())


def bulk_rows(first: int, last: int) -> list[dict[str, Any]]:
    return [album_body(rank, Album=f"Bulk album {rank}", Artist=f"Bulk artist {rank % 997}",
                       Genre=GENRES[rank % len(GENRES)], Year=1950 + rank % 75) for rank in range(first, last + 1)]


class Scale:
    """Split so the 500-album figures are taken before the load test adds albums; then bulk seeds to 5,000 and to
    BENCH_SCALE_ALBUMS (50,000), measuring at each stop."""

    INTERMEDIATE = 5_000

    def __init__(self) -> None:
        self.sizes: dict[int, dict[str, Any]] = {}
        self.seed: dict[str, Any] = {}

    @property
    def small(self) -> dict[str, Any]:
        return self.sizes.get(min(self.sizes), {}) if self.sizes else {}

    def measure_small(self, bench: Bench) -> None:
        figures = measure(bench, middle_rank=250)
        self.sizes[figures["albums"]] = figures

    def grow_and_measure(self, bench: Bench) -> None:
        target = bench.config.scale_albums
        written, seconds, first = 0, 0.0, 501
        for stop in [n for n in (self.INTERMEDIATE, target) if n > 500]:
            rows = bulk_rows(first, stop)
            started = time.perf_counter()
            written += seed_albums(bench.table(), rows, seeded_by="bench")
            seconds += time.perf_counter() - started
            first = stop + 1
            figures = measure(bench, middle_rank=stop // 2)
            self.sizes[figures["albums"]] = figures
        self.seed = {"written": written, "seconds": round(seconds, 1), "items_per_s": round(written / seconds)}

    def rows(self) -> list[Row]:
        if not self.sizes:
            return []
        rows: list[Row] = []
        smallest = min(self.sizes)
        base = self.sizes[smallest]
        for size, figures in sorted(self.sizes.items()):
            at = f"@ {size:,}"
            rank_p50 = figures["rank_api"]["p50"]
            rows.append(Row(SECTION, f"{at}: raw read of 50 albums (BatchGetItem)", figures["raw_read"]["p50"], "ms",
                            note="floor of the Rank page"))
            rows.append(Row(SECTION, f"{at}: Rank page (50) via API p50", rank_p50, "ms",
                            figures["raw_read"]["p50"], "raw read", note=f"goal <= 3x; p95 "
                            f"{figures['rank_api']['p95']} ms; in-process {figures['rank_in_process']['p50']} ms; "
                            f"middle page {figures['rank_middle_api']['p50']} ms"))
            for field, order in ORDERS:
                sorted_p50 = figures[f"{field}_{order}_api"]["p50"]
                vs_small = sorted_p50 / base[f"{field}_{order}_api"]["p50"]
                rows.append(Row(SECTION, f"{at}: first page by {field} {order} via API p50", sorted_p50, "ms",
                                rank_p50, "Rank page, same size",
                                f"goal <= 1.5x; vs @ {smallest:,}: {vs_small:.2f}x (goal <= 1.5x)"))
            rows.append(Row(SECTION, f"{at}: search '{SEARCH}' first page via API p50", figures["search_api"]["p50"],
                            "ms", rank_p50, "Rank page, same size",
                            f"goal <= 1000 ms; in-process {figures['search_in_process']['p50']} ms"))
            rows.append(Row(SECTION, f"{at}: totals + decades (limit=1) via API p50", figures["totals_api"]["p50"],
                            "ms", rank_p50, "Rank page, same size", "goal <= 2x (every page carries them)"))
            rows.append(Row(SECTION, f"{at}: first page after a bulk write (catalog re-read)",
                            figures["catalog_reload_ms"], "ms", rank_p50, "warm Rank page"))
        if self.seed:
            rows.append(Row(SECTION, "bulk seed (albums + catalog entries)", self.seed["items_per_s"], "items/s",
                            note=f"{self.seed['written']:,} albums in {self.seed['seconds']} s"))
        return rows

    def raw(self) -> dict[str, Any]:
        return {"sizes": self.sizes, "seed": self.seed}
