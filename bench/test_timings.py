"""9. The test suite's own timings: the last `make test` run's per-suite wall times (test-results/timings.json, written
by tests/suites.py), kept with the benchmark so a slower suite shows up next to the other figures."""

from __future__ import annotations

import json
from typing import Any

from bench.common import ROOT, Row

SECTION = "9 make test"
TIMINGS = ROOT / "test-results" / "timings.json"


def run() -> tuple[list[Row], dict[str, Any]] | None:
    if not TIMINGS.exists():
        return [Row(SECTION, "last make test", "not run yet", note="run `make test` first")], {}
    data = json.loads(TIMINGS.read_text())
    load = data.get("loadavg_at_end", ["?"])[0]
    rows = [Row(SECTION, f"make test total ({data['finished_at']})", data["total_seconds"], "s",
                note=f"goal <= 120 s on {data.get('cores', '?')} cores; load average at end {load}")]
    if data.get("machine_cpu_seconds"):
        rows.append(Row(SECTION, "  CPU time used (whole machine)", data["machine_cpu_seconds"], "s",
                        note="the run's cost: on 2 cores the wall time cannot go below half of it"))
    for name, suite in data["suites"].items():
        tally = f"{suite['passed']} passed, {suite['failed']} failed" if suite.get("passed") is not None else ""
        rows.append(Row(SECTION, f"  {name}", suite["seconds"], "s", note=tally))
    return rows, data
