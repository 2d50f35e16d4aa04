"""Who may call the API and what they may do, decided in one place from the Cognito authorizer's claims.

API Gateway's Cognito authorizer checks a token's signature, its expiry and that this pool issued it, but on a REST
API it takes any token of the pool: an access token, an ID token of another app client of the pool (even after that
client is deleted) and, on MiniStack, a refresh token. The API's credential is the ID token this app client's sign-in
gives, so the claims must say exactly that: `token_use` "id" and `aud` the app client's id. Anything else is a 401,
as no token would be.

Then the method decides: every signed-in user may read; only members of the Cognito group `editors` may create,
change or delete albums (403 otherwise). Membership comes from the ID token's `cognito:groups`, so a grant or a
revocation takes effect with the user's next ID token (at most an ID token's lifetime later; see the README).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from albums.domain import NotAllowed, Unauthenticated

EDITORS_GROUP = "editors"

# Method -> the group a caller must belong to (None: any signed-in user). A method not listed is refused: a route
# added to the API without a line here answers 403 until someone decides who may use it.
REQUIRED_GROUP: Mapping[str, str | None] = {
    "GET": None,
    "POST": EDITORS_GROUP,
    "PUT": EDITORS_GROUP,
    "DELETE": EDITORS_GROUP,
}

ID_TOKEN_USE = "id"
# API Gateway passes a list claim as one string: "[editors staff]" on MiniStack; a comma-separated form is taken too.
_GROUP_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Caller:
    """The signed-in user behind a request, as the authorizer's claims describe them."""

    sub: str
    groups: frozenset[str] = frozenset()

    @property
    def is_editor(self) -> bool:
        return EDITORS_GROUP in self.groups


def caller_from_claims(claims: Mapping[str, object], client_id: str) -> Caller:
    """The caller, if the claims are those of an ID token of this app client; else Unauthenticated (401)."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("No caller identity: the request did not pass the Cognito authorizer.")
    token_use = claims.get("token_use")
    if token_use != ID_TOKEN_USE:
        kind = f"an {token_use} token" if token_use in ("access", "id") else f"a token of use {token_use!r}"
        raise Unauthenticated(f"Send the ID token of your sign-in in Authorization; this is {kind}.")
    if claims.get("aud") != client_id:
        raise Unauthenticated("This ID token was issued to another app: sign in through this site.")
    return Caller(sub=sub, groups=parse_groups(claims.get("cognito:groups")))


def parse_groups(raw: object) -> frozenset[str]:
    """`cognito:groups` as the function receives it: a JSON list (a direct invoke), "[a b]" or "a,b" (API Gateway)."""
    if raw is None:
        return frozenset()
    if isinstance(raw, list | tuple):
        return frozenset(str(group) for group in raw)
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return frozenset(group for group in _GROUP_SEPARATORS.split(text) if group)


def authorize(caller: Caller, method: str) -> None:
    """Raise NotAllowed (403) unless the caller may use this method."""
    if method not in REQUIRED_GROUP:
        raise NotAllowed(f"The albums API does not allow {method or 'this method'}.")
    group = REQUIRED_GROUP[method]
    if group is not None and group not in caller.groups:
        raise NotAllowed(
            "Only editors can add, change or delete albums; you can read them. Ask the site's administrator to make "
            "you an editor: it takes effect the next time you sign in."
        )
