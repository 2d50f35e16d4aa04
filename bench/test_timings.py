"""9. The test suite's own timings: the last `make test` run's per-suite wall times (test-results/timings.json, written
by tests/suites.py), kept with the benchmark so a slower suite shows up next to the other figures. Every run also
appends a line to test-results/timings-history.jsonl: the last run's total and CPU time are shown as a ratio of the
median of up to ten runs before it, so a regression reads as a ratio above 1 rather than as a number to remember."""

from __future__ import annotations

import json
from statistics import median
from typing import Any

from bench.common import ROOT, Row

SECTION = "9 make test"
TIMINGS = ROOT / "test-results" / "timings.json"
HISTORY = ROOT / "test-results" / "timings-history.jsonl"
EARLIER_RUNS = 10


def earlier_runs(last: dict[str, Any]) -> list[dict[str, Any]]:
    """Up to EARLIER_RUNS green runs before `last`, from the history (unreadable lines are skipped)."""
    if not HISTORY.exists():
        return []
    runs = []
    for line in HISTORY.read_text().splitlines():
        try:
            run = json.loads(line)
        except ValueError:
            continue
        if run.get("finished_at") != last.get("finished_at") and all(
                suite.get("status") == 0 for suite in run.get("suites", {}).values()):
            runs.append(run)
    return runs[-EARLIER_RUNS:]


def _median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if isinstance(run.get(key), int | float)]
    return round(median(values), 1) if values else None


def run() -> tuple[list[Row], dict[str, Any]] | None:
    if not TIMINGS.exists():
        return [Row(SECTION, "last make test", "not run yet", note="run `make test` first")], {}
    data = json.loads(TIMINGS.read_text())
    load = data.get("loadavg_at_end", ["?"])[0]
    before = earlier_runs(data)
    against = f"median, {len(before)} earlier green run{'s' if len(before) != 1 else ''}" if before else ""
    rows = [Row(SECTION, f"make test total ({data['finished_at']})", data["total_seconds"], "s",
                floor=_median_of(before, "total_seconds"), floor_label=against,
                note=f"goal <= 120 s on {data.get('cores', '?')} cores; load average at end {load}")]
    if data.get("machine_cpu_seconds"):
        rows.append(Row(SECTION, "  CPU time used (whole machine)", data["machine_cpu_seconds"], "s",
                        floor=_median_of(before, "machine_cpu_seconds"), floor_label=against,
                        note="the run's cost: on 2 cores the wall time cannot go below half of it"))
    for name, suite in data["suites"].items():
        tally = f"{suite['passed']} passed, {suite['failed']} failed" if suite.get("passed") is not None else ""
        rows.append(Row(SECTION, f"  {name}", suite["seconds"], "s", note=tally))
    return rows, {**data, "earlier_runs": len(before)}
