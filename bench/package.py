"""4. Lambda package: the zip the bootstrap deploys, and the cold import cost of each entry point.

Each import is timed in a fresh interpreter from the unpacked zip (with its shipped .pyc), with
PYTHONDONTWRITEBYTECODE=1 as the Lambda workers run here, against `import boto3` alone in the same run. The same
entry points without the shipped .pyc show what every cold start would pay without them.

If bench/import_time.py (cold-import figures by another engineer) exists and offers `measure(...)`, prefer it; this
module falls back to its own timing otherwise so `python -m bench` never depends on a file it does not own.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.common import Row
from bootstrap import functions
from bootstrap import resources as r

SECTION = "4 package"
ROUNDS = 9
_TIMER = """
import sys, time
sys.path.insert(0, {path!r})
started = time.perf_counter()
import {module}
print(time.perf_counter() - started)
"""


def import_seconds(module: str, path: Path) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "ALBUMS_TABLE": "Albums", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-c", _TIMER.format(path=str(path), module=module)], env=env,
                            capture_output=True, text=True, timeout=60, check=True, cwd=path)
    return float(result.stdout.strip().splitlines()[-1])


def run(bench: Any = None) -> tuple[list[Row], dict]:
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        build = Path(tmp)
        code = functions.build_zip(build)
        staging = build / "function"
        with zipfile.ZipFile(build / "albums-function.zip") as archive:
            names = archive.namelist()
        source_only = build / "source-only"
        shutil.copytree(staging, source_only, ignore=shutil.ignore_patterns("__pycache__"))
        modules = {"boto3": ("boto3", staging)}
        for function in r.FUNCTIONS:
            module = function.handler.rsplit(".", 1)[0]
            modules[function.name] = (module, staging)
            modules[f"{function.name} (no .pyc)"] = (module, source_only)
        samples: dict[str, list[float]] = {name: [] for name in modules}
        import_seconds("json", staging)  # page the interpreter in before the first timed run
        for _ in range(ROUNDS):  # interleaved, so drift on a noisy machine hits every module alike
            for name, (module, path) in modules.items():
                samples[name].append(import_seconds(module, path))
    # The minimum is the cost without interference (this machine is shared and noisy); the median is in the note.
    best = {name: min(values) * 1000 for name, values in samples.items()}
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    boto3_ms = best["boto3"]
    raw = {
        "zip_bytes": len(code),
        "zip_files": len(names),
        "pyc_files": sum(name.endswith(".pyc") for name in names),
        "rounds": ROUNDS,
        "import_ms_min": {name: round(value, 1) for name, value in best.items()},
        "import_ms_median": {name: round(value, 1) for name, value in medians.items()},
        "import_ms_all": {name: [round(v * 1000, 1) for v in values] for name, values in samples.items()},
        "python": sys.executable,
    }
    rows = [
        Row(SECTION, "function zip (all four functions share it)", round(len(code) / 1024, 1), "KiB",
            note=f"{len(names)} files, {raw['pyc_files']} .pyc"),
        Row(SECTION, f"import boto3 alone, fresh interpreter (min of {ROUNDS})", round(boto3_ms, 1), "ms",
            note=f"median {medians['boto3']:.1f} ms"),
    ]
    for function in r.FUNCTIONS:
        value = best[function.name]
        rows.append(Row(SECTION, f"import {function.handler.rsplit('.', 1)[0]} (cold, min of {ROUNDS})",
                        round(value, 1), "ms", round(boto3_ms, 1), "import boto3 alone",
                        f"adds {value - boto3_ms:+.1f} ms to boto3 (budget +100); median {medians[function.name]:.1f};"
                        f" without shipped .pyc: min {best[function.name + ' (no .pyc)']:.1f} ms"))
    return rows, raw
