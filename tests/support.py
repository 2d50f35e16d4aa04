"""What every suite that talks to the running stack shares: its outputs, and real Cognito users."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz"


class StackNotRunning(Exception):
    pass


@cache
def outputs() -> dict[str, Any]:
    """The running stack's endpoints, from the file the bootstrap wrote. Nothing is hard-coded."""
    path = Path(os.environ.get("STACK_DIR", ROOT / ".stack")) / "outputs.json"
    if not path.exists():
        raise StackNotRunning(f"{path} not found: start the stack with `make up` (or run `make test`)")
    data = json.loads(path.read_text())
    try:
        requests.get(data["EndpointUrl"] or data["ApiUrl"], timeout=3)
    except requests.RequestException as error:
        raise StackNotRunning(f"the stack in {path} does not answer ({error}): run `make up`") from error
    return data


def client(service: str):
    """A boto3 client for the stack in outputs.json (emulators take any credentials; AWS uses yours)."""
    out = outputs()
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"} if out["EndpointUrl"] else {}
    return boto3.client(service, region_name=out["Region"], endpoint_url=out["EndpointUrl"], **credentials)


def cognito():
    return client("cognito-idp")


@dataclass
class User:
    email: str
    password: str
    username: str
    sub: str = ""
    id_token: str = ""
    tokens: dict = field(default_factory=dict)  # the last AuthenticationResult (IdToken, AccessToken, RefreshToken)


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


class Api:
    """The Albums API as a client sees it: HTTP through API Gateway with the raw ID token."""

    def __init__(self, user: User | None, origin: str = "http://example.test") -> None:
        self.url = outputs()["ApiUrl"] + "/album"
        self.http = requests.Session()
        self.http.headers["Origin"] = origin
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


FREE_RANKS = range(600_000, 1_000_000)  # far above the seeded 1..500, so a test album never lands among them


def free_rank(api: Api, taken: Collection[int] = ()) -> int:
    """A random Rank no album holds now (nor one in `taken`): for a test about to create an album there."""
    for _ in range(20):
        rank = secrets.choice(FREE_RANKS)
        if rank not in taken and api.get(rank=rank).status_code == 404:
            return rank
    raise AssertionError("no free Rank found in 20 tries")
