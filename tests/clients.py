"""Cognito users and the Albums API as a client reaches them: sign-up, the e-mail code, sign-in, and HTTP with a
user's ID token. For the tests, the bench and the Postman runner; the product (bootstrap/) never signs anyone up.

Everything comes from the stack's outputs (`bootstrap.access.outputs`): nothing here hard-codes an endpoint.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from bootstrap.access import StackNotRunning, client, outputs

PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz"


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
