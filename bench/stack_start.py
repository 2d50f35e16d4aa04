"""1. Stack start: MiniStack alone (start to healthy) vs `python -m bootstrap up` from empty and from stopped state."""

from __future__ import annotations

import shutil
import statistics

from bench.common import Row, timed
from bench.context import Bench
from bootstrap.emulator import Emulator

SECTION = "1 start"


def run(bench: Bench) -> tuple[list[Row], dict]:
    alone_dir = bench.config.stack_dir / "_ministack-alone"
    alone = Emulator(alone_dir, bench.config.port)
    empty_starts = []
    for _ in range(3):
        shutil.rmtree(alone_dir, ignore_errors=True)
        seconds, _ = timed(alone.start)
        empty_starts.append(seconds)
        alone.stop()
    floor = statistics.median(empty_starts)

    bench.wipe()
    from_empty = bench.bootstrap_up()
    stop_seconds, _ = timed(bench.emulator.stop)
    from_state = bench.bootstrap_up()
    # The same state, MiniStack alone: how much of `up` from state is the emulator loading it, how much the deploy.
    bench.emulator.stop()
    alone_with_state, _ = timed(bench.emulator.start)
    already_running = bench.bootstrap_up()

    raw = {
        "ministack_alone_empty_s": [round(s, 3) for s in empty_starts],
        "ministack_alone_with_state_s": round(alone_with_state, 3),
        "up_from_empty": {"s": round(from_empty.seconds, 2), "steps": from_empty.step_timings,
                          "changes": from_empty.changes},
        "graceful_stop_s": round(stop_seconds, 2),
        "up_from_state": {"s": round(from_state.seconds, 2), "steps": from_state.step_timings,
                          "changes": from_state.changes},
        "up_already_running": {"s": round(already_running.seconds, 2), "steps": already_running.step_timings,
                               "changes": already_running.changes},
    }
    floor_label = "MiniStack alone (empty)"
    rows = [
        Row(SECTION, "MiniStack alone, start->healthy (empty, median of 3)", round(floor, 2), "s"),
        Row(SECTION, "MiniStack alone, start->healthy (bench state)", round(alone_with_state, 2), "s", floor,
            floor_label),
        Row(SECTION, "bootstrap up from empty (deploy + seed 500)", round(from_empty.seconds, 2), "s", floor,
            floor_label, from_empty.step_timings),
        Row(SECTION, "bootstrap up from stopped-with-state", round(from_state.seconds, 2), "s", floor, floor_label,
            f"changes: {from_state.changes}"),
        Row(SECTION, "bootstrap up when already running", round(already_running.seconds, 2), "s", floor,
            floor_label, f"changes: {already_running.changes}"),
        Row(SECTION, "graceful stop (state saved)", round(stop_seconds, 2), "s"),
    ]
    return rows, raw
