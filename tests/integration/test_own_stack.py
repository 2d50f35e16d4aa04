"""What would disturb every other test on the shared test stack runs on a deployed stack of its own, beside them: a
gate that admits one API call and lets none wait (what a client turned away gets), a function whose worker is
frozen (what a client of a timed-out function gets), a graceful stop and start (what survives it), and deploys of
a changed and of a broken template (what a redeploy keeps, what a failed one leaves running).

The stack is the same bootstrap's full deployment on a port from THROWAWAY_PORT or, unset, a free one; it is
stopped at the end of the module whatever happened."""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.burst import burst
from bootstrap import stack
from bootstrap import template as tpl
from bootstrap.access import ROOT, outputs
from bootstrap.emulator import Emulator
from bootstrap.errors import StackError
from bootstrap.target import resolve
from tests.clients import Api, User, confirmed_user, sign_in
from tests.integration.conftest import album
from tests.support import free_rank, throwaway_port

pytestmark = pytest.mark.own_stack  # waits on stacks of its own: scheduled first (conftest.py)
# One API call at a time and no queue: the gate's refusal is easy to provoke, and a frozen call holds the only place.
NARROW_GATE = {"STACK_API_CONCURRENCY": "1", "STACK_API_QUEUE_SECONDS": "0"}
IDS = ("UserPoolId", "UserPoolClientId", "ApiUrl", "WebsiteUrl", "BucketName", "TableName")


def bootstrap(command: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "bootstrap", command], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment (PORT, STACK_DIR, the gate) of a deployed stack of this module's own."""
    env = {"PORT": str(throwaway_port()), "STACK_DIR": str(tmp_path_factory.mktemp("own") / "stack"), **NARROW_GATE}
    try:
        bootstrap("up", env)
        yield env
    finally:
        Emulator(Path(env["STACK_DIR"]), int(env["PORT"])).stop(hard=True)


@pytest.fixture
def on_own_stack(own_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Clients in this test talk to the own stack (bootstrap.access finds a stack through STACK_DIR and caches its
    outputs): its outputs; pointed back afterwards."""
    monkeypatch.setenv("PORT", own_stack["PORT"])
    monkeypatch.setenv("STACK_DIR", own_stack["STACK_DIR"])
    outputs.cache_clear()
    yield outputs()
    outputs.cache_clear()


@pytest.fixture
def own_user(on_own_stack: dict[str, Any]) -> User:
    return confirmed_user("own")


def test_a_call_that_waited_too_long_is_a_readable_503(own_user: User) -> None:
    answers = []

    class Recording(Api):
        def get(self, **params):
            response = super().get(**params)
            answers.append(response)
            return response

    result = burst(lambda: Recording(own_user), clients=30, rounds=1)
    busy = [r for r in answers if r.status_code == 503]
    assert busy, result["statuses"]
    assert set(result["statuses"]) <= {"200", "503"}
    for response in busy:
        assert response.headers["Access-Control-Allow-Origin"] == outputs()["SiteOrigin"]
        assert response.headers["Retry-After"] == "1"
        assert response.json()["error"]["code"] == "busy"


def test_a_function_that_times_out_is_a_readable_error(own_stack: dict[str, str], own_user: User) -> None:
    """The GET function's worker frozen during a call: after the 10 s function timeout API Gateway answers on its
    own (MiniStack: 502 without CORS, its own error text); the client gets our JSON error with CORS."""
    api = Api(own_user)
    emulator = Emulator(Path(own_stack["STACK_DIR"]).resolve(), int(own_stack["PORT"]))
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
    assert response.headers["Access-Control-Allow-Origin"] == outputs()["SiteOrigin"]
    assert response.json()["error"]["code"] == "gateway_error"
    assert "Task timed out" not in response.text
    assert api.get(rank=1).status_code == 200  # a new worker serves the next call


def test_down_then_up_keeps_users_albums_and_ids(own_stack: dict[str, str], on_own_stack: dict[str, Any],
                                                 own_user: User) -> None:
    """MiniStack keeps its state across a graceful stop: the same ids, the same users, the albums as edited."""
    api = Api(own_user)
    rank = free_rank(api)
    assert api.post(album(rank)).status_code == 201
    assert api.put(rank, {"Album": "Edited Before Restart", "version": 1}).status_code == 200

    bootstrap("down", own_stack)
    bootstrap("up", own_stack)

    outputs.cache_clear()
    assert {k: outputs()[k] for k in IDS} == {k: on_own_stack[k] for k in IDS}
    again = Api(sign_in(own_user))  # the user still exists and can sign in
    kept = again.get(rank=rank).json()
    assert (kept["Album"], kept["version"]) == ("Edited Before Restart", 2)


def _deploy_changed(template: tpl.Template, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Deploy `template` in place of template.yaml onto the own stack (the bootstrap's own code, in-process)."""
    monkeypatch.setattr(tpl, "load", lambda path=tpl.TEMPLATE: copy.deepcopy(template))
    lines: list[str] = []
    stack.deploy(resolve("local"), out=lines.append)
    return lines


def test_a_changed_function_setting_redeploys_and_keeps_users_and_albums(
        on_own_stack: dict[str, Any], own_user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change reaches the function through a change set; the table and the pool are updated, never replaced."""
    api = Api(own_user)
    before = api.get(limit=1).json()["total"]
    changed = tpl.load()
    changed["Resources"]["Fn::ForEach::Routes"][2]["${Route}Function"]["Properties"]["MemorySize"] = 384
    lines = _deploy_changed(changed, monkeypatch)
    assert any("GetFunction" in line for line in lines) and not any("REPLACED" in line for line in lines)
    assert not any(name in line for line in lines for name in ("AlbumsTable", "UserPool "))
    assert resolve("local").client("lambda").get_function_configuration(FunctionName="albums-get")["MemorySize"] == 384
    assert {k: outputs()[k] for k in IDS} == {k: on_own_stack[k] for k in IDS}
    again = Api(sign_in(own_user))  # the user is still there
    assert again.get(limit=1).json()["total"] == before


def test_a_failed_deploy_names_the_resource_and_the_previous_version_keeps_running(
        on_own_stack: dict[str, Any], own_user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    running = resolve("local").client("lambda").get_function_configuration(FunctionName="albums-get")["MemorySize"]
    broken = tpl.load()
    broken["Resources"]["Fn::ForEach::Routes"][2]["${Route}Function"]["Properties"]["MemorySize"] = 640
    # AWS and MiniStack refuse a trust policy with Allow + NotPrincipal.
    broken["Resources"]["BrokenRole"] = {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "albums-broken-role", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "NotPrincipal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
    with pytest.raises(StackError) as failed:
        _deploy_changed(broken, monkeypatch)
    message = str(failed.value)
    assert "\n" not in message and "BrokenRole (AWS::IAM::Role)" in message and "NotPrincipal" in message
    assert "still running" in message
    lam = resolve("local").client("lambda")
    assert lam.get_function_configuration(FunctionName="albums-get")["MemorySize"] == running  # rolled back
    assert Api(sign_in(own_user)).get(rank=1).status_code == 200
