"""The benchmark's own stack: wipe, `python -m bootstrap up` on it, clients, users. Nothing here touches .stack."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.config import Config

from bench.common import ROOT, BenchConfig, BenchError
from bootstrap import access
from bootstrap.emulator import Emulator

# Many threads share the bench's clients (load, burst); bulk seeds and big scans need long reads.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=120,
                       max_pool_connections=32)


@dataclass
class UpRun:
    seconds: float
    output: str

    @property
    def changes(self) -> str:
        for line in self.output.splitlines():
            if line.startswith("Changes:"):
                return line.removeprefix("Changes:").strip()
        return "?"

    @property
    def step_timings(self) -> str:
        for line in self.output.splitlines():
            if line.startswith("Deployed to"):
                return line[line.find("(") + 1: line.rfind(")")]
        return ""


@dataclass
class Bench:
    config: BenchConfig
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # bootstrap.access (outputs, clients; tests.clients: users, Api) and the bootstrap subprocess find the stack
        # through these two variables.
        os.environ["STACK_DIR"] = str(self.config.stack_dir)
        os.environ["PORT"] = str(self.config.port)

    @property
    def emulator(self) -> Emulator:
        return Emulator(self.config.stack_dir, self.config.port)

    @property
    def endpoint(self) -> str:
        return self.config.endpoint

    def wipe(self) -> None:
        """Stop whatever runs on the bench stack and delete its state (ours alone, see config_from_env)."""
        self.emulator.stop()
        if self.config.stack_dir.exists():
            shutil.rmtree(self.config.stack_dir)

    def bootstrap_up(self) -> UpRun:
        """`make up`-equivalent on the bench stack, timed end to end as a user would see it."""
        env = {**os.environ, "PORT": str(self.config.port), "STACK_DIR": str(self.config.stack_dir)}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "bootstrap", "up", "--target", "local"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        seconds = time.perf_counter() - started
        self.config.stack_dir.mkdir(parents=True, exist_ok=True)
        with (self.config.stack_dir / "bench-up.log").open("a") as log:
            log.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise BenchError(f"python -m bootstrap up failed ({result.returncode}): {result.stderr.strip()[-800:]}")
        self._forget_outputs()
        return UpRun(seconds, result.stdout)

    def _forget_outputs(self) -> None:
        self.__dict__.pop("outputs", None)
        access.outputs.cache_clear()

    @cached_property
    def outputs(self) -> dict[str, Any]:
        data = access.outputs(self.config.stack_dir)
        if data.get("EndpointUrl") != self.endpoint:
            raise BenchError(f"outputs.json names {data.get('EndpointUrl')}, expected {self.endpoint}")
        return data

    def client(self, service: str) -> Any:
        return access.client(service, self.outputs, CLIENT_CONFIG)

    def table(self) -> Any:
        return access.albums_table(self.outputs, CLIENT_CONFIG)

    @cached_property
    def user(self):
        from tests.clients import confirmed_user

        return confirmed_user("bench")

    def api(self, user: Any = None):
        from tests.clients import Api

        return Api(user or self.user)


def directory_size_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return round(total / 1e6, 1)
