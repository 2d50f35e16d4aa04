"""python -m bench [--sections 1,2,...]: run the benchmark suite on its own stack, print one table, write
bench/results.json. See bench/__init__.py for what it touches (only BENCH_STACK_DIR / BENCH_PORT)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    burst,
    dashboard,
    durability,
    faults,
    latency,
    load,
    machine,
    package,
    powertools,
    report,
    stack_start,
    test_timings,
)
from bench.common import Row, config_from_env
from bench.context import Bench
from bench.scale import Scale

RESULTS = Path(__file__).resolve().parent / "results.json"
SECTIONS = {"1": "1 start", "2": "2 latency", "3": "3 scale", "4": "4 package", "5": "5 dashboard",
            "6": "6 load", "7": "7 faults", "8": "8 burst", "9": "9 make test", "10": "10 powertools",
            "11": "11 durability + loop"}


class Run:
    def __init__(self, wanted: set[str]) -> None:
        self.wanted = wanted
        self.started = time.perf_counter()
        self.rows: dict[str, list[Row]] = {key: [] for key in SECTIONS}
        self.raw: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.seconds: dict[str, float] = {}

    def log(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f}s] {text}", file=sys.stderr, flush=True)

    def section(self, key: str, label: str, work: Callable[[], tuple[list[Row], Any] | None]) -> bool:
        if key not in self.wanted:
            return False
        self.log(f"{SECTIONS[key]}: {label}")
        began = time.perf_counter()
        try:
            result = work()
        except Exception as error:  # report it in the table and carry on with the other sections
            self.errors[f"{key}:{label}"] = traceback.format_exc()
            self.rows[key].append(Row(SECTIONS[key], f"ERROR in {label}", f"{type(error).__name__}: {error}"[:160]))
            self.log(f"  failed: {type(error).__name__}: {error}")
            return False
        finally:
            self.seconds[f"{key}:{label}"] = round(time.perf_counter() - began, 1)
        if result is not None:
            rows, raw = result
            self.rows[key].extend(rows)
            self.raw.setdefault(SECTIONS[key], {}).update(raw if isinstance(raw, dict) else {"value": raw})
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sections", default="1,2,3,4,5,6,7,8,9,10,11", help="comma-separated section numbers")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown too")
    args = parser.parse_args(argv)
    wanted = {s.strip() for s in args.sections.split(",") if s.strip()}

    config = config_from_env()
    bench = Bench(config)
    run = Run(wanted)
    info = machine.describe()
    run.log(f"bench stack: port {config.port}, {config.stack_dir}; {machine.one_line(info)}")
    scale = Scale()
    try:
        run.section("9", "the last make test's timings", test_timings.run)
        run.section("4", "zip + cold imports", package.run)
        if not run.section("1", "stack start", lambda: stack_start.run(bench)):
            run.log("preparing the bench stack (wipe + bootstrap up)")
            bench.wipe()
            bench.bootstrap_up()
        run.section("2", "API vs in-process latency, cold calls", lambda: latency.run(bench))
        run.section("10", "Powertools Logger: cold-start cost", lambda: powertools.run(bench))
        run.section("3", "pages at 500 albums", lambda: scale.measure_small(bench))
        run.section("5", "dashboard in Chromium", lambda: dashboard.run(bench))
        run.section("6", "concurrent users + audit", lambda: load.run(bench))
        run.section("8", f"{burst.CLIENTS} clients at once", lambda: burst.run(bench))
        run.section("3", f"bulk seed to {config.scale_albums:,} + pages", lambda: scale.grow_and_measure(bench))
        run.section("7", "graceful restart, hard kill", lambda: faults.run(bench))
    finally:
        run.log("stopping the bench stack (graceful)")
        try:
            bench.emulator.stop(wait_seconds=120)
        except Exception as error:  # never leave it running
            run.log(f"graceful stop failed ({error}); killing it")
            bench.emulator.stop(hard=True)
    # On stacks of its own (the bench port is free again): the journal against the periodic saver, and make watch.
    run.section("11", "zero loss vs the periodic saver, make watch", lambda: durability.run(config, run.log))
    if scale.small:
        run.rows["3"][:0] = scale.rows()
        run.raw["3 scale"] = scale.raw()
    total = time.perf_counter() - run.started
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    rows = [row for key in SECTIONS for row in run.rows[key]]
    rows.append(Row("total", "python -m bench wall time", round(total, 1), "s", note="goal < 600 s on 2 cores"))

    print()
    print(f"Benchmark on {machine.one_line(info)}")
    print(f"Stack: MiniStack on 127.0.0.1:{config.port}, state in {config.stack_dir}")
    print()
    print(report.table(rows))
    if args.markdown:
        print()
        print(report.table(rows, markdown=True))
    print()
    print(f"Total: {total:.1f} s; load average at end {info['loadavg_at_end']}; results in {RESULTS}")
    if run.errors:
        print(f"{len(run.errors)} section(s) failed: {', '.join(run.errors)} (tracebacks in results.json)")

    RESULTS.write_text(json.dumps({
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "stack": {"port": config.port, "stack_dir": str(config.stack_dir)},
        "total_seconds": round(total, 1),
        "section_seconds": run.seconds,
        "rows": [row.to_json() for row in rows],
        "table_markdown": report.table(rows, markdown=True),
        "raw": run.raw,
        "errors": run.errors,
    }, indent=2, default=str) + "\n")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
