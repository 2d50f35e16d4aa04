"""The functions' code: one self-contained zip of the `albums` package, bundled into every function."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

from bootstrap.target import ROOT

PACKAGE_DIR = ROOT / "lambdas" / "albums"
REQUIREMENTS = ROOT / "lambdas" / "requirements.txt"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same source gives the same zip, so re-runs change nothing

RUNTIME_PYTHON = "3.12"  # the functions' Runtime in template.yaml (a unit test keeps them equal)


def build_zip(build_dir: Path) -> bytes:
    """Zip the `albums` package with its third-party requirements and compiled bytecode.

    Bytecode is compiled with unchecked-hash invalidation: the zip's extraction gives every file a new mtime, which
    would invalidate timestamp-based .pyc, and workers run with PYTHONDONTWRITEBYTECODE, so every cold start would
    recompile. The .pyc matches the local interpreter (the emulator's); other runtimes simply ignore it. It is
    compiled in a fresh interpreter: marshal writes a constant as a back-reference or not depending on how many
    references the process holds to it, so compiling in a process that has imported `albums` (the seed does) gave
    other bytes, a new zip and a redeploy of every function the second time round.
    """
    staging = build_dir / "function"
    if staging.exists():
        subprocess.run(["rm", "-rf", str(staging)], check=True)
    staging.mkdir(parents=True)
    if REQUIREMENTS.exists() and _requirements(REQUIREMENTS):
        subprocess.run(pip_install_command(staging), check=True)
    for source in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in source.parts:
            continue
        dest = staging / "albums" / source.relative_to(PACKAGE_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(source.read_bytes())
    subprocess.run([sys.executable, "-I", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                    str(staging)], check=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(staging)), _ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    (build_dir / "albums-function.zip").write_bytes(data)
    return data


def pip_install_command(staging: Path) -> list[str]:
    """Wheels for the Lambda runtime (Linux x86_64, the runtime's CPython), not for whatever machine deploys."""
    python_version = RUNTIME_PYTHON
    return [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--only-binary=:all:",
            "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", python_version,
            "--target", str(staging), "-r", str(REQUIREMENTS)]


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def sha256(code: bytes) -> str:
    return hashlib.sha256(code).hexdigest()
