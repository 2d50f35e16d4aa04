"""10. Powertools Logger, measured where it would cost: a function's cold start through MiniStack's Lambda.

Three throwaway copies of albums-get (its role, its handler), each forced cold five times by a configuration update:
our zip as deployed; the same zip carrying aws-lambda-powertools (+ jmespath, typing_extensions) without importing
it (the cost of unpacking a bigger zip); and a handler that imports Powertools and creates its Logger first. The
budget is the one `bench/import_time.py` applies to imports: +100 ms per cold start. The wheels come from PyPI (pip
download, pinned below) into the bench stack's folder; the functions are deleted afterwards.
"""

from __future__ import annotations

import io
import json
import py_compile
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.common import Row
from bench.context import Bench
from bootstrap import functions

SECTION = "10 powertools"
WHEELS = ("aws-lambda-powertools==3.37.0", "jmespath==1.0.1", "typing_extensions==4.15.0")
COLD_CALLS = 5
PROBE = ("from aws_lambda_powertools import Logger\nlogger = Logger(service='albums')\n"
         "from albums.handlers.get import handler\n")
EVENT = {"httpMethod": "GET", "path": "/album", "queryStringParameters": {"rank": "1"},
         "requestContext": {"authorizer": {"claims": {"sub": "bench"}}}}


def unpacked_powertools(work: Path) -> Path:
    """The wheels from PyPI, unpacked and compiled like our own code (see functions.build_zip), once per run."""
    wheels, unpacked = work / "wheels", work / "powertools"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), *WHEELS], check=True)
    for wheel in wheels.glob("*.whl"):
        zipfile.ZipFile(wheel).extractall(unpacked)
    for source in unpacked.rglob("*.py"):
        py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return unpacked


def with_powertools(base: bytes, unpacked: Path, probe: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as ours, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in ours.infolist():
            out.writestr(info, ours.read(info))
        for path in sorted(p for p in unpacked.rglob("*") if p.is_file()):
            out.writestr(str(path.relative_to(unpacked)), path.read_bytes())
        if probe:
            out.writestr("probe.py", probe)
    return buffer.getvalue()


def cold_calls(lam: Any, name: str, role: str, code: bytes, handler: str) -> list[float]:
    environment = {"ALBUMS_TABLE": "Albums", "LOG_LEVEL": "INFO"}
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler=handler, Code={"ZipFile": code},
                        Timeout=30, Environment={"Variables": environment})
    try:
        times = []
        for attempt in range(COLD_CALLS):
            lam.update_function_configuration(FunctionName=name,  # any configuration update: the next call is cold
                                              Environment={"Variables": {**environment, "ATTEMPT": str(attempt)}})
            lam.get_waiter("function_updated_v2").wait(FunctionName=name)
            started = time.perf_counter()
            answer = lam.invoke(FunctionName=name, Payload=json.dumps(EVENT))["Payload"].read()
            times.append((time.perf_counter() - started) * 1000)
            if b"statusCode" not in answer:
                raise RuntimeError(f"{name} answered {answer[:200]!r}")
        return times
    finally:
        lam.delete_function(FunctionName=name)


def run(bench: Bench) -> tuple[list[Row], dict[str, Any]]:
    lam = bench.client("lambda")
    role = bench.client("iam").get_role(RoleName="albums-get-role")["Role"]["Arn"]
    work = bench.config.stack_dir / "powertools"
    ours = functions.build_zip(work / "build")
    unpacked = unpacked_powertools(work)
    variants = {
        "as deployed": (ours, "albums.handlers.get.handler"),
        "+ Powertools in the zip, not imported": (with_powertools(ours, unpacked, None), "albums.handlers.get.handler"),
        "+ Powertools Logger imported and created": (with_powertools(ours, unpacked, PROBE), "probe.handler"),
    }
    raw: dict[str, Any] = {}
    for index, (label, (code, handler)) in enumerate(variants.items()):
        times = cold_calls(lam, f"bench-powertools-{index}", role, code, handler)
        raw[label] = {"zip_kib": len(code) // 1024, "cold_ms": [round(t, 1) for t in times],
                      "median_ms": round(statistics.median(times), 1)}
    floor = raw["as deployed"]["median_ms"]
    rows = [Row(SECTION, f"albums-get cold call, {label} ({figures['zip_kib']} KiB zip), median of {COLD_CALLS}",
                figures["median_ms"], "ms", floor, "as deployed",
                f"adds {figures['median_ms'] - floor:+.0f} ms (budget +100 ms)") for label, figures in raw.items()]
    return rows, raw
