"""docker-compose.yml's `ministack` service, rehearsed where no Docker engine runs: what the container would run, run
here as close to it as a machine without Docker allows; the stack deployed onto it, then a command against it.

    python -m tests.container_rehearsal [--port 4811] [-- COMMAND ...]

- The service's entrypoint and environment are read from docker-compose.yml (its `${VAR:-default}`s interpolated
  with PORT), and run with a Python like the image's: CPython 3.13 in a venv of its own (.scratch/image-venv) with
  MiniStack's dependencies, boto3 and cryptography, and MiniStack's source beside it in a folder (as the image has
  it in /opt/ministack), not installed; never .venv.
- The checkout is mounted read-only (the container's /repo), and everything runs in a network namespace of its own
  with only a loopback, so the server binds 0.0.0.0 as in the container and nothing outside can reach it.
- `python -m bootstrap up --target docker`, then COMMAND (say, the suites `make test STACK=docker` runs), run in the
  same namespace with PORT and STACK_DIR (.scratch/stack-docker-state) set, as tests/docker_stack.py runs them beside
  the container; then the server gets SIGTERM, as `docker compose stop` sends it. State: .scratch/state.

Needs root (unshare, mount) and Python 3.13 (pyenv's here). What it cannot show: the image itself (Alpine's musl, its
exact packages), Docker's port publishing, compose's own reading of the file. GitHub's runners show those.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from bootstrap.server_protocol import IDENTITY_PATH, origin

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".scratch"
IMAGE_VENV = SCRATCH / "image-venv"
IMAGE_MINISTACK = SCRATCH / "opt-ministack"  # stands in for the image's /opt/ministack
PYTHON_313 = os.environ.get("PYTHON_313", str(Path.home() / ".pyenv/versions/3.13.0/bin/python"))
# The image's own environment (MiniStack's Dockerfile, ENV), under what compose sets.
IMAGE_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONOPTIMIZE": "2", "MALLOC_ARENA_MAX": "2", "LAMBDA_EXECUTOR": "local",
             "USE_SSL": "0", "LOG_LEVEL": "INFO", "S3_PERSIST": "0", "GATEWAY_PORT": "4566"}


def pinned(package: str) -> str:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(rf'"{package}==([^"]+)"', text)
    assert match, package
    return match.group(1)


def image_python() -> str:
    """The image-like interpreter: made once (~1 min), from the registry, at the pinned MiniStack and boto3."""
    python = IMAGE_VENV / "bin" / "python"
    if not (python.exists() and (IMAGE_MINISTACK / "ministack").is_dir()):
        subprocess.run([PYTHON_313, "-m", "venv", str(IMAGE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"ministack=={pinned('ministack')}",
                        f"boto3=={pinned('boto3')}", "cryptography"], check=True)
        # MiniStack itself as the image has it: its source in a folder, not an installed package
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--target", str(IMAGE_MINISTACK),
                        f"ministack=={pinned('ministack')}"], check=True)
        subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "ministack"], check=True)
        for extra in IMAGE_MINISTACK.glob("*"):
            if extra.name != "ministack":
                shutil.rmtree(extra)
    return str(python)


def interpolate(value: str, port: int) -> str:
    """Compose's `${VAR:-default}`: PORT as given, any other variable unset."""
    return re.sub(r"\$\{([A-Za-z_]+):-([^}]*)\}", lambda m: str(port) if m.group(1) == "PORT" else m.group(2), value)


def server_invocation(port: int, repo_view: Path, state: Path, python: str) -> tuple[list[str], dict[str, str], Path]:
    """The service's entrypoint, environment and working dir, its container paths mapped onto this machine's."""
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["ministack"]
    places = {"/opt/ministack": str(IMAGE_MINISTACK)}
    for volume in service["volumes"]:
        outside, inside = volume.split(":")[:2]
        places[inside] = str(repo_view) if outside == "." else str(state)

    def mapped(value: str) -> str:
        value = interpolate(value, port)
        for inside, outside in places.items():
            if value == inside or value.startswith(inside + "/"):
                return outside + value[len(inside):]
        return value

    command = [mapped(part) for part in service["entrypoint"]]
    assert command[0] == "python", command
    command[0] = python
    environment = {**IMAGE_ENV, **{name: mapped(str(value)) for name, value in service["environment"].items()},
                   "PATH": f"{Path(python).parent}:/usr/bin:/bin", "HOME": str(state)}
    return command, environment, Path(mapped(service["working_dir"]))


def ours(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(origin(port) + IDENTITY_PATH, timeout=2) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def inside(port: int, command: list[str]) -> int:
    """In the namespaces: mount, start the server, run the command, stop the server."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    repo_view, state = SCRATCH / "repo", SCRATCH / "state"
    repo_view.mkdir(exist_ok=True)
    state.mkdir(exist_ok=True)
    subprocess.run(["mount", "--bind", str(ROOT), str(repo_view)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(repo_view)], check=True)
    server_command, environment, cwd = server_invocation(port, repo_view, state, image_python())
    print("server:", " ".join(server_command), flush=True)
    log = (SCRATCH / "server.log").open("ab")
    server = subprocess.Popen(server_command, env=environment, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while (identity := ours(port)) is None:
        if server.poll() is not None or time.monotonic() > deadline:
            print(f"the server did not answer {IDENTITY_PATH}; see {SCRATCH / 'server.log'}", file=sys.stderr)
            server.kill()
            return 1
        time.sleep(0.2)
    print("identity:", json.dumps(identity), flush=True)
    env = {**os.environ, "PORT": str(port), "STACK_DIR": str(SCRATCH / "stack-docker-state")}
    deploy = [sys.executable, "-m", "bootstrap", "up", "--target", "docker"]
    status = subprocess.run(deploy, cwd=ROOT, env=env, check=False).returncode
    if command and not status:
        status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    server.send_signal(signal.SIGTERM)  # as `docker compose stop` (through init)
    began = time.monotonic()
    code = server.wait(timeout=60)
    saved = json.loads((state / "stop.json").read_text()) if (state / "stop.json").exists() else None
    print(f"server stopped in {time.monotonic() - began:.1f}s with exit code {code}; stop.json: {saved}; "
          f"clean end recorded: {(state / 'last-run.json').exists() and not (state / 'running.json').exists()}")
    return status or code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=4811)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()
    if args.inside:
        return inside(args.port, args.command)
    image_python()  # made before the network goes: the registry is outside
    return subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", sys.executable, "-m",
                           "tests.container_rehearsal", "--inside", "--port", str(args.port), "--", *args.command],
                          cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
