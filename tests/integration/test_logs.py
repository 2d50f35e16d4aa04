"""`make logs` finds a request's log lines in the emulator's CloudWatch Logs by the id the client was given."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bootstrap.access import ROOT


def bootstrap_logs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bootstrap", "logs", "--since", "10", *args], cwd=ROOT,
                          env=os.environ.copy(), capture_output=True, text=True, timeout=60)


def test_the_lines_of_one_request_are_found_by_its_request_id(api) -> None:
    response = api.get(rank=1)
    assert response.status_code == 200
    request_id = response.headers["X-Request-Id"]  # what a client (or the browser's network tab) sees
    deadline = time.monotonic() + 15
    while True:
        result = bootstrap_logs("--request-id", request_id)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # the platform's START / END / REPORT lines and the function's one JSON line, all of that invocation
    assert len(lines) == 4 and all(" albums-get " in line and request_id in line for line in lines)
    assert any('"status": 200' in line for line in lines)


def test_logs_of_one_function_only(api) -> None:
    assert api.get(rank=2).status_code == 200
    result = bootstrap_logs("--function", "get")
    assert result.returncode == 0, result.stderr
    names = {line.split()[1] for line in result.stdout.splitlines()}
    assert names == {"albums-get"}


def test_an_unknown_function_is_one_line(api) -> None:
    result = bootstrap_logs("--function", "albums-nope")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: no function named 'albums-nope'")
