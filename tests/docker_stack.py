"""`make test STACK=docker`: pytest-docker starts docker-compose.yml's MiniStack for the test session (our server,
bootstrap/ministack_server.py, in MiniStack's official image), the bootstrap deploys onto it (as `make up
STACK=docker` does), and compose stops and removes the container at the end.

Loaded with `pytest -p tests.docker_stack`; the suites themselves are the same as on the embedded stack.
Needs a Docker engine with Compose v2 (GitHub's runners have both; our own machines have neither).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap.server_protocol import IDENTITY_PATH, origin

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("PORT", "4566"))


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(ROOT / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"albums-test-{PORT}"  # one project per port: two runs on two ports never share a container


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --wait ministack"]  # only MiniStack: the LocalStack service is behind its profile anyway


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down"]  # our server saves its state on the graceful stop; .stack-docker/ keeps it for the next run


def _ours() -> bool:
    """Our server answers (MiniStack's own would not know the identity path: a stack without our fixes)."""
    try:
        with urllib.request.urlopen(origin(PORT) + IDENTITY_PATH, timeout=2) as response:
            return response.status == 200 and "stackDir" in json.load(response)
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="session", autouse=True)
def docker_stack(docker_services, docker_compose_project_name: str) -> Iterator[None]:  # pytest-docker's Services
    docker_services.wait_until_responsive(check=_ours, timeout=120, pause=1)
    try:
        subprocess.run([sys.executable, "-m", "bootstrap", "up", "--target", "docker"], cwd=ROOT, check=True,
                       env={**os.environ, "PORT": str(PORT)})
        yield
    finally:  # the server's log, before compose removes the container with it (CI keeps test-results/)
        (ROOT / "test-results").mkdir(exist_ok=True)
        with (ROOT / "test-results" / "ministack-docker.log").open("w") as log:
            subprocess.run(["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "-p",
                            docker_compose_project_name, "logs", "--no-color", "ministack"], stdout=log,
                           stderr=subprocess.STDOUT, check=False)
