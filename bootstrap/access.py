"""A running stack as its tools reach it: the outputs the bootstrap wrote and boto3 clients for its endpoint.

The one place that reads `outputs.json` and makes clients for a deployed stack: `make watch`, `make debug`, the tests,
the Postman runner and the bench use it, and the bootstrap's own Target makes its sessions with `session()` below.
Users and the API over HTTP are the tests' (tests/clients.py). Nothing here hard-codes an endpoint: everything comes
from the outputs of the stack in STACK_DIR (default <repo>/.stack).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
# Emulators accept any credentials; set only for an endpoint, so a real profile is never overridden on AWS.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


class StackNotRunning(Exception):
    """No outputs for this stack dir, or nothing answers at their endpoint; the message says what to run."""


def stack_dir() -> Path:
    """The local stack's folder: STACK_DIR, else <repo>/.stack."""
    return Path(os.environ.get("STACK_DIR", ROOT / ".stack")).resolve()


@cache
def outputs(directory: Path | None = None) -> dict[str, Any]:
    """The stack's endpoints, from the file the bootstrap wrote, once it answers there."""
    path = (directory or stack_dir()) / "outputs.json"
    if not path.exists():
        raise StackNotRunning(f"{path} not found: start the stack with `make up` (or run `make test`)")
    data: dict[str, Any] = json.loads(path.read_text())
    try:
        urllib.request.urlopen(data["EndpointUrl"] or data["ApiUrl"], timeout=3).close()
    except urllib.error.HTTPError:
        pass  # it answered
    except (urllib.error.URLError, OSError) as error:
        raise StackNotRunning(f"the stack in {path} does not answer ({error}): run `make up`") from error
    return data


def session(region: str, *, local: bool) -> boto3.session.Session:
    """A new boto3 session for a region; for an emulator (local) with the test credentials it accepts."""
    return boto3.session.Session(region_name=region, **(EMULATOR_CREDENTIALS if local else {}))


@cache
def _shared_session(region: str, local: bool) -> boto3.session.Session:
    """One session per region and kind for the clients below, so they share their error classes (`client.exceptions.X`
    is per session: a test expecting cognito().exceptions.UsernameExistsException must get that very class)."""
    return session(region, local=local)


def client(service: str, stack: dict[str, Any] | None = None, config: Config | None = None) -> Any:
    """A boto3 client for the stack's endpoint (boto3 clients have no common static type)."""
    stack = stack or outputs()
    return _shared_session(stack["Region"], bool(stack["EndpointUrl"])).client(
        service, endpoint_url=stack["EndpointUrl"], config=config)


def albums_table(stack: dict[str, Any] | None = None, config: Config | None = None) -> Any:
    """The Albums table as a boto3 Table resource."""
    stack = stack or outputs()
    resource = _shared_session(stack["Region"], bool(stack["EndpointUrl"])).resource(
        "dynamodb", endpoint_url=stack["EndpointUrl"], config=config)
    return resource.Table(stack["TableName"])
