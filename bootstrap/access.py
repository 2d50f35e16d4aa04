"""A running stack as its users reach it: the outputs the bootstrap wrote, boto3 clients for its endpoint, confirmed
Cognito users, and the Albums API over HTTP with a user's ID token.

The one place that reads `outputs.json` and makes clients for a deployed stack: the tests, the Postman runner and the
bench use it, and the bootstrap's own Target makes its sessions with `session()` below. Nothing here hard-codes an
endpoint: everything comes from the outputs of the stack in STACK_DIR (default <repo>/.stack).
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
# Emulators accept any credentials; set only for an endpoint, so a real profile is never overridden on AWS.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz"


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


def cognito() -> Any:
    return client("cognito-idp")


# --- users -------------------------------------------------------------------------------------------------------


@dataclass
class User:
    email: str
    password: str
    username: str
    sub: str = ""
    id_token: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # the last AuthenticationResult (IdToken, AccessToken, ...)


def make_password() -> str:
    return "Pw1!" + secrets.token_hex(6) + secrets.choice(PASSWORD_ALPHABET).upper()


def sign_up(label: str = "user") -> User:
    """A new UNCONFIRMED user with a unique username and e-mail, so tests never share accounts."""
    tag = secrets.token_hex(4)
    user = User(email=f"{label}-{tag}@example.com", password=make_password(), username=f"{label}{tag}")
    response = cognito().sign_up(
        ClientId=outputs()["UserPoolClientId"], Username=user.username, Password=user.password,
        UserAttributes=[{"Name": "email", "Value": user.email}],
    )
    user.sub = response["UserSub"]
    return user


def read_code(email: str, timeout: float = 10.0) -> str:
    """The newest verification code sent to `email`, read from the emulator's mailbox (never a constant)."""
    mailbox = outputs()["MailboxUrl"]
    if not mailbox:
        raise StackNotRunning("this stack has no readable mailbox (MailboxUrl is null): tests need the local target")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = requests.get(mailbox, timeout=5).json().get("messages", {})
        for message in reversed([m for account in messages.values() for m in account]):
            if email in message.get("To", []):
                digits = "".join(ch if ch.isdigit() else " " for ch in message.get("BodyText", "")).split()
                if digits:
                    return digits[-1]
        time.sleep(0.2)
    raise AssertionError(f"no verification e-mail for {email} in {mailbox}")


def confirmed_user(label: str = "user") -> User:
    user = sign_up(label)
    # By username: an e-mail alias resolves only once verified, i.e. after this confirmation (as on AWS).
    cognito().confirm_sign_up(ClientId=outputs()["UserPoolClientId"], Username=user.username,
                              ConfirmationCode=read_code(user.email))
    return sign_in(user)


def sign_in(user: User, login: str | None = None) -> User:
    """Sign in with `login` (the e-mail by default; the username works too)."""
    result = cognito().initiate_auth(ClientId=outputs()["UserPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": login or user.email, "PASSWORD": user.password})
    user.tokens = result["AuthenticationResult"]
    user.id_token = user.tokens["IdToken"]
    return user


# --- the API -----------------------------------------------------------------------------------------------------


class Api:
    """The Albums API as a client sees it: HTTP through API Gateway with the raw ID token."""

    def __init__(self, user: User | None, origin: str | None = None) -> None:
        self.url = outputs()["ApiUrl"] + "/album"
        self.http = requests.Session()
        self.http.headers["Origin"] = origin or outputs()["SiteOrigin"]  # as the site's pages send it
        if user:
            self.http.headers["Authorization"] = user.id_token

    def get(self, **params: Any) -> requests.Response:
        return self.http.get(self.url, params=params, timeout=30)

    def post(self, body: Any, **kwargs: Any) -> requests.Response:
        return self.http.post(self.url, json=body, timeout=30, **kwargs)

    def put(self, rank: int, body: Any) -> requests.Response:
        return self.http.put(self.url, params={"rank": rank}, json=body, timeout=30)

    def delete(self, rank: int, **params: Any) -> requests.Response:
        return self.http.delete(self.url, params={"rank": rank, **params}, timeout=30)
