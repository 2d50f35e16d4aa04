"""Cold import time of each Lambda entry point against `import boto3` alone (not a test; run it by hand or in CI).

Each figure is the median over fresh interpreters of the wall time of the import statement, measured inside the
child. Two layouts are measured:
  zip     - lambdas/albums copied to a temp dir and compiled with unchecked-hash .pyc, as the bootstrap zips it
  source  - the working tree without .pyc (PYTHONDONTWRITEBYTECODE is set on this machine: every import compiles)
Budget (DESIGN.md): an entry point adds at most 100 ms on top of boto3 (checked on the zip layout; exit status 1
if over). Wall-clock figures swing by tens of ms on a busy machine; the -X importtime sum printed at the end (the
own time of every module the entry point adds to boto3) is the steadier figure.

    python bench/import_time.py [--runs 5] [--detail]     # --detail: slowest non-boto modules (-X importtime)
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lambdas" / "albums"
ENTRY_POINTS = ["albums.handlers.get", "albums.handlers.create", "albums.handlers.update", "albums.handlers.delete"]
BUDGET_MS = 100.0
TIMER = (
    "import time; t = time.perf_counter(); import {module}; elapsed = time.perf_counter() - t; "
    "import albums, sys; print(elapsed * 1000 if '{module}' == 'boto3' or albums.__file__.startswith({where!r}) "
    "else sys.exit('albums imported from ' + albums.__file__))"
)


def child_env(pythonpath: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(PYTHONPATH=str(pythonpath), PYTHONDONTWRITEBYTECODE="1", ALBUMS_TABLE="Albums")
    return env


def import_ms(module: str, pythonpath: Path) -> float:
    code = TIMER.format(module=module, where=str(pythonpath))
    result = subprocess.run([sys.executable, "-c", code], env=child_env(pythonpath), capture_output=True, text=True,
                            check=True)
    return float(result.stdout.strip())


def measure(pythonpath: Path, runs: int) -> dict[str, list[float]]:
    """Samples per module; boto3 and the entry points alternate so that load drift hits them alike."""
    samples: dict[str, list[float]] = {module: [] for module in ["boto3", *ENTRY_POINTS]}
    for _ in range(runs):
        for module in samples:
            samples[module].append(import_ms(module, pythonpath))
    return samples


def zip_layout(target: Path) -> Path:
    shutil.copytree(PACKAGE, target / "albums", ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(target, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return target


def added_modules(module: str, pythonpath: Path) -> list[tuple[int, str]]:
    """(self microseconds, name) of every module the entry point imports that `import boto3` does not, slowest
    first (-X importtime); their sum is the entry point's own cost, free of the wall-clock noise."""

    def self_times(mod: str) -> dict[str, int]:
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {mod}"],
                                env=child_env(pythonpath), capture_output=True, text=True, check=True)
        rows = {}
        for line in result.stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                own, _, name = (part.strip() for part in line[len("import time:"):].split("|"))
                rows[name] = int(own)
        return rows

    baseline = self_times("boto3")
    return sorted(((us, name) for name, us in self_times(module).items() if name not in baseline), reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per figure (median)")
    parser.add_argument("--detail", action="store_true", help="list the modules the entry points add to boto3")
    args = parser.parse_args()

    over_budget = False
    with tempfile.TemporaryDirectory(prefix="albums-import-") as temp:
        layouts = {"zip": zip_layout(Path(temp)), "source": PACKAGE.parent}
        print(f"python {sys.version.split()[0]}; medians of {args.runs} fresh interpreters; "
              f"'added' = median of paired (entry point - boto3) runs\n")
        print(f"{'entry point':<26}{'layout':<8}{'import ms':>10}{'boto3 ms':>10}{'added ms':>10}{'ratio':>7}")
        for name, path in layouts.items():
            samples = measure(path, args.runs)
            boto3_ms = statistics.median(samples["boto3"])
            for module in ENTRY_POINTS:
                total = statistics.median(samples[module])
                added = statistics.median(a - b for a, b in zip(samples[module], samples["boto3"], strict=True))
                over = added > BUDGET_MS and name == "zip"  # the zip layout is what Lambda runs
                over_budget |= over
                flag = f"  OVER the {BUDGET_MS:.0f} ms budget" if over else ""
                ratio = total / boto3_ms
                print(f"{module:<26}{name:<8}{total:>10.1f}{boto3_ms:>10.1f}{added:>10.1f}{ratio:>7.2f}{flag}")
        for name, path in layouts.items():
            rows = added_modules(ENTRY_POINTS[0], path)
            print(f"\n-X importtime, {name} layout: the modules {ENTRY_POINTS[0]} adds to boto3 take "
                  f"{sum(us for us, _ in rows) / 1000:.1f} ms of their own")
            if args.detail:
                for micros, module in rows:
                    print(f"{micros:>10} us  {module}")
    return 1 if over_budget else 0


if __name__ == "__main__":
    raise SystemExit(main())
