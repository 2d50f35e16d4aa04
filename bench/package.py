"""4. Lambda package: the zip the bootstrap deploys, and the cold import cost of each entry point.

The import timing is bench/import_time.py's (fresh interpreters, PYTHONDONTWRITEBYTECODE=1 as the Lambda workers
run here, boto3 and the entry points alternating), applied to the unpacked zip that `bootstrap.functions.build_zip`
really produces (with its unchecked-hash .pyc) and to the same files without .pyc. Reported: the minimum over the
runs (the cost without interference on this shared machine), the median of paired (entry point - boto3) runs, and
the -X importtime sum of the modules an entry point adds to boto3 (the steadiest figure).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench import import_time
from bench.common import Row
from bootstrap import functions, template

SECTION = "4 package"
RUNS = 9


def run(bench: Any = None) -> tuple[list[Row], dict]:
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        build = Path(tmp)
        code = functions.build_zip(build)
        staging = build / "function"  # exactly what is zipped
        with zipfile.ZipFile(build / "albums-function.zip") as archive:
            names = archive.namelist()
        source_only = build / "source-only"
        shutil.copytree(staging, source_only, ignore=shutil.ignore_patterns("__pycache__"))
        zip_samples = import_time.measure(staging, RUNS)
        source_samples = import_time.measure(source_only, RUNS)
        own_ms = {module: sum(us for us, _ in import_time.added_modules(module, staging)) / 1000
                  for module in import_time.ENTRY_POINTS}
    boto3_min = min(zip_samples["boto3"])
    raw: dict[str, Any] = {
        "zip_bytes": len(code), "zip_files": len(names), "pyc_files": sum(n.endswith(".pyc") for n in names),
        "runs": RUNS, "samples_ms": {"zip": zip_samples, "no_pyc": source_samples},
        "importtime_own_ms": {m: round(v, 1) for m, v in own_ms.items()}, "timer": "bench/import_time.py",
    }
    rows = [
        Row(SECTION, "function zip (every function shares it)", round(len(code) / 1024, 1), "KiB",
            note=f"{len(names)} files, {raw['pyc_files']} .pyc"),
        Row(SECTION, f"import boto3 alone, fresh interpreter (min of {RUNS})", round(boto3_min, 1), "ms",
            note=f"median {statistics.median(zip_samples['boto3']):.1f} ms"),
    ]
    functions_by_module = {f.handler.rsplit(".", 1)[0]: f.name for f in template.functions()}
    for module in import_time.ENTRY_POINTS:
        samples = zip_samples[module]
        paired = statistics.median(a - b for a, b in zip(samples, zip_samples["boto3"], strict=True))
        rows.append(Row(
            SECTION, f"import {module} ({functions_by_module.get(module, '?')}), min of {RUNS}",
            round(min(samples), 1), "ms", round(boto3_min, 1), "import boto3 alone",
            f"adds {min(samples) - boto3_min:+.1f} ms (paired median {paired:+.1f}; -X importtime own "
            f"{own_ms[module]:.1f}) - budget +100; without .pyc: min {min(source_samples[module]):.1f}"))
    return rows, raw
