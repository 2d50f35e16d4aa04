"""`make test STACK=docker`: pytest-docker starts docker-compose.yml's MiniStack for the test session, the bootstrap
deploys onto it (as `make up STACK=docker` does), and compose stops and removes the container at the end.

Loaded with `pytest -p tests.docker_stack`; the suites themselves are the same as on the embedded stack.
Needs a Docker engine with Compose v2 (GitHub's runners have both; our own machines have neither).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    return ["down"]  # MiniStack saves its state on the graceful stop; .stack-docker/ keeps it for the next run


def _healthy() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/_ministack/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def docker_stack(docker_services) -> Iterator[None]:  # pytest-docker's Services
    docker_services.wait_until_responsive(check=_healthy, timeout=120, pause=1)
    subprocess.run([sys.executable, "-m", "bootstrap", "up", "--target", "docker"], cwd=ROOT, check=True,
                   env={**os.environ, "PORT": str(PORT)})
    yield
