"""docker-compose.yml and the CI workflow, checked here where no Docker engine runs (GitHub's runners run them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def pinned(package: str) -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (version,) = [d.split("==", 1)[1] for d in dependencies if d.split("==", 1)[0] == package]
    return version


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_container_ministack_is_the_official_image_of_the_pinned_release() -> None:
    assert services()["ministack"]["image"] == f"ministackorg/ministack:{pinned('ministack')}"
    assert "command" not in services()["ministack"]  # the image's own entrypoint, not a pip install at start


def test_no_variable_is_required_by_the_whole_file() -> None:
    # Compose interpolates every service, profiles included, before it selects any (docker/compose#11977): a
    # `${VAR:?}` in the LocalStack service would stop `STACK=docker` too.
    def strings(node: object) -> list[str]:
        if isinstance(node, dict):
            return [s for key, value in node.items() for s in strings(key) + strings(value)]
        if isinstance(node, list):
            return [s for item in node for s in strings(item)]
        return [node] if isinstance(node, str) else []

    values = strings(yaml.safe_load(COMPOSE.read_text()))
    assert "${LOCALSTACK_AUTH_TOKEN:-}" in values
    assert not [value for value in values if re.search(r"\$\{[A-Za-z_]+:?\?", value)]


def test_every_published_port_is_on_the_loopback_only() -> None:
    ports = [port for service in services().values() for port in service.get("ports", [])]
    assert ports and all(port.startswith("127.0.0.1:") for port in ports)


def test_ci_runs_the_suite_on_the_container_stack() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    runs = [step.get("run", "") for step in workflow["jobs"]["test-docker"]["steps"]]
    assert "make test STACK=docker" in runs
