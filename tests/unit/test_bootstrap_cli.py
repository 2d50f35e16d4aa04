"""Bad configuration gives one clear line on stderr and exit code 1, never a traceback (`python -m bootstrap`)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bootstrap.emulator import HEALTH_PATH, Emulator
from bootstrap.errors import StackError

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], stack_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORT": str(port), "STACK_DIR": str(stack_dir)}
    try:
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    finally:  # whatever happened, never leave a MiniStack of ours running (a foreign one is refused: left alone)
        with contextlib.suppress(StackError):
            Emulator(stack_dir.resolve(), port).stop()


def bootstrap(*args: str, stack_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "bootstrap", *args], stack_dir, port)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


@pytest.fixture
def foreign_ministack() -> Iterator[int]:
    """An HTTP server that looks healthy to our health check but is not the MiniStack of this stack dir."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"services": {}}).encode() if self.path == HEALTH_PATH else b"{}"
            self.send_response(200 if self.path == HEALTH_PATH else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_up_on_a_port_taken_by_something_else_fails_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as squatter:  # listens but never answers HTTP: the health check times out
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(8)
        port = squatter.getsockname()[1]
        result = bootstrap("up", stack_dir=tmp_path, port=port)
    line = one_error_line(result)
    assert f"port {port} in use" in line
    assert str(tmp_path / "ministack.log") in line


def test_up_refuses_a_ministack_that_is_not_ours(tmp_path: Path, foreign_ministack: int) -> None:
    result = bootstrap("up", stack_dir=tmp_path, port=foreign_ministack)
    line = one_error_line(result)
    assert f"port {foreign_ministack} is already served by something that is not the MiniStack of" in line
    assert str(tmp_path.resolve()) in line
    assert not (tmp_path / "outputs.json").exists()


def test_deploy_with_nothing_listening_says_to_start_the_stack(tmp_path: Path) -> None:
    # The bootstrap looks once before its first AWS call: boto3 alone would retry a refused connection for ~15 s.
    port = free_port()
    result = bootstrap("deploy", stack_dir=tmp_path, port=port)
    line = one_error_line(result)
    assert f"nothing answers at http://127.0.0.1:{port}" in line
    assert "make up" in line
    assert not (tmp_path / "outputs.json").exists()


def test_status_of_a_fresh_stack_dir_is_not_running(tmp_path: Path) -> None:
    port = free_port()
    result = bootstrap("status", stack_dir=tmp_path, port=port)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"MiniStack at http://127.0.0.1:{port}: not running\n"


def test_down_of_a_fresh_stack_dir_was_not_running(tmp_path: Path) -> None:
    result = bootstrap("down", stack_dir=tmp_path, port=free_port())
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "MiniStack was not running\n"


def test_down_leaves_a_ministack_that_is_not_ours_running(tmp_path: Path, foreign_ministack: int) -> None:
    result = bootstrap("down", stack_dir=tmp_path, port=foreign_ministack)
    line = one_error_line(result)
    assert f"port {foreign_ministack} is already served by something that is not the MiniStack of" in line
