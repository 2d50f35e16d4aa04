"""`make editor USER=<username or e-mail> [REVOKE=1] [TARGET=aws]`: make a user an editor, or a reader again.

Editors are the members of the pool's Cognito group `editors` (template.yaml); the API reads membership from the
caller's ID token (lambdas/albums/authorization.py), so a change takes effect with the user's next ID token: their
next sign-in, or the site's next refresh of the token once the current one expires (it lives IdTokenValidity,
15 minutes). A revoked editor's current ID token keeps working until then; nothing on the server can cut it short.

    python -m bootstrap.editor [--target local|docker|localstack|aws] [--revoke] <username or e-mail>
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from bootstrap.errors import StackError, reported
from bootstrap.target import Client, Target, resolve

EDITORS_GROUP = "editors"  # the group albums.authorization.EDITORS_GROUP names (a unit test keeps them equal)


@dataclass(frozen=True)
class Account:
    username: str
    email: str
    groups: frozenset[str]

    def describe(self) -> str:
        return f"{self.username} ({self.email})" if self.email else self.username


def pool_ids(target: Target) -> tuple[str, str]:
    """(UserPoolId, UserPoolClientId) of the stack this folder deployed."""
    if not target.outputs_file.exists():
        raise StackError(f"{target.outputs_file} not found: deploy the stack first "
                         f"({'make up' if target.local else 'make deploy TARGET=' + target.name})")
    outputs: dict[str, Any] = json.loads(target.outputs_file.read_text())
    return outputs["UserPoolId"], outputs["UserPoolClientId"]


def find_account(cognito: Client, pool_id: str, login: str) -> Account:
    """The account a person means by their username or their (verified) e-mail, as the sign-in page resolves it."""
    login = login.strip()
    if not login:
        raise StackError("give the user's username or e-mail: make editor USER=<username or e-mail>")
    # Usernames are case-insensitive: the site sends them in lower case.
    username = _username_for_email(cognito, pool_id, login) if "@" in login else login.lower()
    try:
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    except cognito.exceptions.UserNotFoundException:
        raise StackError(f"no user {login!r} in the pool {pool_id}: check the username or e-mail") from None
    attributes = {item["Name"]: item["Value"] for item in user.get("UserAttributes", [])}
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=user["Username"])["Groups"]
    return Account(user["Username"], attributes.get("email", ""), frozenset(group["GroupName"] for group in groups))


def _username_for_email(cognito: Client, pool_id: str, email: str) -> str:
    found = cognito.list_users(UserPoolId=pool_id, Filter=f'email = "{email.replace(chr(34), "")}"')["Users"]
    verified = [user for user in found if any(
        item["Name"] == "email_verified" and item["Value"] == "true" for item in user.get("Attributes", []))]
    # An unverified address is not a sign-in alias, and several accounts may have typed it: only a verified one
    # names a person.
    if len(verified) == 1:
        return str(verified[0]["Username"])
    if found:
        names = ", ".join(sorted(user["Username"] for user in found))
        raise StackError(f"no account has verified {email} (accounts that typed it: {names}): give the username")
    raise StackError(f"no user {email!r} in the pool {pool_id}: check the e-mail, or give the username")


def token_minutes(cognito: Client, pool_id: str, client_id: str) -> int:
    """How long the app client's ID tokens live, in minutes (what a change of groups waits for at most)."""
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    validity = int(client.get("IdTokenValidity") or 60)
    unit = (client.get("TokenValidityUnits") or {}).get("IdToken", "hours")
    return {"seconds": max(1, validity // 60), "minutes": validity, "hours": validity * 60, "days": validity * 1440}[
        unit]


def change(target: Target, login: str, *, revoke: bool = False) -> str:
    """Grant (or revoke) the editor role; returns what to tell the person running it."""
    cognito = target.client("cognito-idp")
    pool_id, client_id = pool_ids(target)
    account = find_account(cognito, pool_id, login)
    minutes = token_minutes(cognito, pool_id, client_id)
    if revoke:
        if EDITORS_GROUP not in account.groups:
            return f"{account.describe()} is not an editor (a reader already): nothing changed."
        cognito.admin_remove_user_from_group(UserPoolId=pool_id, Username=account.username, GroupName=EDITORS_GROUP)
        return (f"{account.describe()} is a reader now: from their next ID token on, they can no longer add, change "
                f"or delete albums. An ID token they already hold keeps working until it expires (at most {minutes} "
                "minutes).")
    if EDITORS_GROUP in account.groups:
        return f"{account.describe()} is an editor already: nothing changed."
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=account.username, GroupName=EDITORS_GROUP)
    return (f"{account.describe()} is an editor now: they can add, change and delete albums from their next ID "
            f"token on: their next sign-in, or at most {minutes} minutes from now when the site refreshes it.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bootstrap.editor", description=__doc__.split("\n\n")[0])
    parser.add_argument("login", help="the user's username or verified e-mail")
    parser.add_argument("--revoke", action="store_true", help="make the user a reader again")
    parser.add_argument("--target", default="local", choices=["local", "docker", "localstack", "aws"])
    args = parser.parse_args(argv)
    return reported(args.target, lambda: print(change(resolve(args.target), args.login, revoke=args.revoke)))


if __name__ == "__main__":
    sys.exit(main())
