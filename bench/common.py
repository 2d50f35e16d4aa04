"""What every benchmark section shares: the bench stack's location, result rows, percentiles, timers."""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from albums.domain import FIELDS, Value
from bootstrap.server_protocol import origin

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 4598
DEFAULT_STACK_DIR = ROOT / ".stack-bench"
# Stacks that belong to people and to `make test`: the benchmark wipes its own state, so it refuses these.
PROTECTED_DIRS = {ROOT / ".stack", ROOT / ".stack-test"}
PROTECTED_PORTS = {4566, 4599}


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class BenchConfig:
    port: int
    stack_dir: Path
    samples: int  # N per method for latency figures
    load_users: int
    load_seconds: float
    scale_albums: int

    @property
    def endpoint(self) -> str:
        return origin(self.port)


def config_from_env() -> BenchConfig:
    """BENCH_* variables only: `make` exports PORT and STACK_DIR for the developer's own stack, never ours."""
    port = int(os.environ.get("BENCH_PORT", DEFAULT_PORT))
    stack_dir = Path(os.environ.get("BENCH_STACK_DIR", DEFAULT_STACK_DIR)).resolve()
    if stack_dir in {p.resolve() for p in PROTECTED_DIRS} or port in PROTECTED_PORTS:
        raise BenchError(f"refusing to benchmark on {stack_dir} / port {port}: the benchmark wipes its stack; "
                         "give it its own BENCH_STACK_DIR and BENCH_PORT")
    return BenchConfig(
        port=port,
        stack_dir=stack_dir,
        samples=int(os.environ.get("BENCH_SAMPLES", "30")),
        load_users=int(os.environ.get("BENCH_LOAD_USERS", "20")),
        load_seconds=float(os.environ.get("BENCH_LOAD_SECONDS", "30")),
        scale_albums=int(os.environ.get("BENCH_SCALE_ALBUMS", "50000")),
    )


@dataclass
class Row:
    """One line of the printed table. `floor` is the same-run reference the value is compared with."""

    section: str
    metric: str
    value: float | int | str | None
    unit: str = ""
    floor: float | int | None = None
    floor_label: str = ""
    note: str = ""
    ratio: float | None = field(default=None)

    def __post_init__(self) -> None:
        if self.ratio is None and isinstance(self.value, int | float) and self.floor:
            self.ratio = round(self.value / self.floor, 2)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def album_body(rank: int, **values: Value) -> dict[str, Value]:
    """A POST body the API accepts for `rank`: `values`, and every other required field of the table
    (albums.domain.FIELDS) filled in (text "Bench", an integer its rule's smallest value). A field added to the table
    needs no change in the benchmarks."""
    body: dict[str, Value] = {"Rank": rank}
    for one in FIELDS:
        if one.required and one.name not in body:
            body[one.name] = "Bench" if one.kind == "text" else one.rule.minimum
    return {**body, **values}


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Iterable[float]) -> dict[str, float | int | None]:
    values = [s * 1000 for s in seconds]
    if not values:
        return {"n": 0, "p50": None, "p95": None, "min": None, "max": None, "mean": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
