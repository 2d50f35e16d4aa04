"""Bursts and stuck functions: clients get answers, never a gateway error without CORS.

The test stack (default gate) must answer 40 concurrent page requests without a 5xx. A throwaway stack with a gate
of one call and no queue shows what a client gets when it must be turned away: 503, CORS, Retry-After, our
JSON error. A function that times out (its worker frozen) gives the client a readable 502 with CORS. Speed is
measured by `make bench` (section 8), not asserted here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.burst import burst
from bootstrap.access import ROOT, Api, confirmed_user, outputs
from bootstrap.emulator import Emulator
from tests.integration.test_stack_process import throwaway_port


def test_forty_clients_at_once_all_get_an_answer(user) -> None:
    result = burst(lambda: Api(user), clients=40, rounds=2)
    assert result["server_errors"] == 0, result["statuses"]
    assert result["statuses"] == {"200": 80}


@pytest.fixture
def narrow_stack(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A deployed throwaway stack whose gate admits one API call at a time and lets none wait."""
    env = {**os.environ, "PORT": str(throwaway_port()), "STACK_DIR": str(tmp_path / "stack"),
           "STACK_API_CONCURRENCY": "1", "STACK_API_QUEUE_SECONDS": "0"}
    try:
        up = subprocess.run([sys.executable, "-m", "bootstrap", "up"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
        assert up.returncode == 0, up.stderr
        yield env
    finally:
        Emulator(Path(env["STACK_DIR"]), int(env["PORT"])).stop(hard=True)


@pytest.fixture
def on_narrow_stack(narrow_stack: dict[str, str], monkeypatch) -> Iterator[None]:
    """tests.support finds the stack through STACK_DIR and caches its outputs: point it there, and back after."""
    monkeypatch.setenv("PORT", narrow_stack["PORT"])
    monkeypatch.setenv("STACK_DIR", narrow_stack["STACK_DIR"])
    outputs.cache_clear()
    yield
    outputs.cache_clear()


def test_a_call_that_waited_too_long_is_a_readable_503(on_narrow_stack) -> None:
    user = confirmed_user("narrow")
    answers = []

    class Recording(Api):
        def get(self, **params):
            response = super().get(**params)
            answers.append(response)
            return response

    result = burst(lambda: Recording(user), clients=30, rounds=1)
    busy = [r for r in answers if r.status_code == 503]
    assert busy, result["statuses"]
    assert set(result["statuses"]) <= {"200", "503"}
    for response in busy:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Retry-After"] == "1"
        assert response.json()["error"]["code"] == "busy"


def test_a_function_that_times_out_is_a_readable_error(stack: dict, api) -> None:
    """The GET function's worker frozen during a call: after the 10 s function timeout API Gateway answers on its
    own (MiniStack: 502 without CORS, its own error text); the client gets our JSON error with CORS."""
    emulator = Emulator(Path(os.environ.get("STACK_DIR", ROOT / ".stack")).resolve(), int(os.environ["PORT"]))
    assert api.get(rank=1).status_code == 200  # a warm worker to freeze
    workers = emulator.lambda_workers("albums-get")
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        response = api.get(rank=1)
    finally:
        for pid in workers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)
    assert response.status_code == 502
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json()["error"]["code"] == "gateway_error"
    assert "Task timed out" not in response.text
    assert api.get(rank=1).status_code == 200  # a new worker serves the next call
