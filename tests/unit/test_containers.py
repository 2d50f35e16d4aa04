"""docker-compose.yml and the CI workflow, checked here where no Docker engine runs (GitHub's runners run them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from bootstrap.emulator import SERVER_SCRIPT, Emulator, server_environment
from bootstrap.server_protocol import IDENTITY_PATH, origin

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def pinned(package: str) -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (version,) = [d.split("==", 1)[1] for d in dependencies if d.split("==", 1)[0] == package]
    return version


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def interpolated(value: str) -> str:
    """`${VAR:-default}` as compose reads it with PORT=4811 (not its default: both sides must follow it) and no other
    variable set."""
    return re.sub(r"\$\{([A-Za-z_]+):-([^}]*)\}", lambda m: "4811" if m.group(1) == "PORT" else m.group(2), value)


def test_container_ministack_is_the_official_image_of_the_pinned_release() -> None:
    assert services()["ministack"]["image"] == f"ministackorg/ministack:{pinned('ministack')}"


def test_the_container_runs_our_server_as_make_up_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same script, arguments and environment as bootstrap/emulator.py gives it, from the checkout mounted
    read-only: so the container has our MiniStack fixes and the journal, not the image's own server."""
    monkeypatch.delenv("MINISTACK_LOG_LEVEL", raising=False)
    service = services()["ministack"]
    mounts = {inside: outside for outside, inside, *mode in (volume.split(":") for volume in service["volumes"])}
    modes = {inside: mode for _, inside, *mode in (volume.split(":") for volume in service["volumes"])}
    python, script, stack_dir, bind_host, port = (interpolated(part) for part in service["entrypoint"])
    assert python == "python" and "command" not in service  # the image's Python; no pip install at start
    repo = next(inside for inside, outside in mounts.items() if outside == ".")
    assert modes[repo] == ["ro"] and (ROOT / Path(script).relative_to(repo)).resolve() == SERVER_SCRIPT
    assert mounts[stack_dir] == "./.stack-docker" and service["working_dir"] == stack_dir  # as the emulator: cwd
    emulator = Emulator(Path(stack_dir), int(port), host=bind_host)
    assert [python, str(SERVER_SCRIPT), stack_dir, bind_host, port] == emulator.command(python)
    environment = {name: interpolated(str(value)) for name, value in service["environment"].items()}
    assert environment.pop("PYTHONPATH") == "/opt/ministack"  # the image's MiniStack: source, not installed
    assert environment == server_environment(stack_dir, bind_host, port)


def test_the_container_is_reached_at_the_one_origin_on_both_sides() -> None:
    """It listens inside on the port it is published on, so http://127.0.0.1:PORT is the site's origin, the API's
    CORS origin and the functions' endpoint alike, in the container and on the host."""
    service = services()["ministack"]
    port = interpolated(service["entrypoint"][-1])
    assert [interpolated(published) for published in service["ports"]] == [f"127.0.0.1:{port}:{port}"]
    assert interpolated(service["environment"]["GATEWAY_PORT"]) == port
    # healthy means OUR server answers (MiniStack's own has no identity)
    assert f"{origin(port)}{IDENTITY_PATH}" in interpolated(" ".join(service["healthcheck"]["test"]))
    assert service["init"] is True  # PID 1 passes SIGTERM on (our server saves) and reaps the workers


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
