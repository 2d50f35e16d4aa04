"""Cognito user pool `projectpool` (a unique username, an e-mail alias, e-mailed verification code) and its browser
app client."""

from __future__ import annotations

from typing import Any

from bootstrap import resources as r
from bootstrap.errors import StackError
from bootstrap.target import Client, Target, password_auth_flows

# Sign-in by username or by the (verified) e-mail; usernames are unique and case-insensitive.
SIGN_IN_SETTINGS: dict[str, Any] = {"AliasAttributes": ["email"], "UsernameConfiguration": {"CaseSensitive": False}}

CLIENT_SETTINGS: dict[str, Any] = {
    "GenerateSecret": False,  # a browser cannot keep a secret
    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", *password_auth_flows(), "ALLOW_REFRESH_TOKEN_AUTH"],  # see there
    # Short-lived ID tokens: a signed-out token stays valid at the API until it expires (as on AWS).
    "IdTokenValidity": 15,
    "AccessTokenValidity": 15,
    "RefreshTokenValidity": 1,
    "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"},
    "PreventUserExistenceErrors": "ENABLED",
    "ReadAttributes": ["email", "email_verified"],
    "WriteAttributes": ["email"],
}


def find_pool(cognito: Client) -> dict[str, Any] | None:
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        pool: dict[str, Any]
        for pool in page["UserPools"]:
            if pool["Name"] == r.USER_POOL:
                return pool
    return None


def ensure_user_pool(target: Target) -> tuple[str, str, str]:
    """Returns (pool id, pool ARN, client id). Pool settings are create-only: AWS cannot change sign-in attributes
    of an existing pool, so a second run only reconciles the app client."""
    cognito = target.client("cognito-idp")
    found = find_pool(cognito)
    if found is None:
        pool = cognito.create_user_pool(
            PoolName=r.USER_POOL,
            **SIGN_IN_SETTINGS,
            AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": r.PASSWORD_POLICY},
            Schema=[
                {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
            ],
            VerificationMessageTemplate={
                "DefaultEmailOption": "CONFIRM_WITH_CODE",
                "EmailSubject": "Your Albums verification code",
                "EmailMessage": "Your Albums verification code is {####}",
            },
            AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        )["UserPool"]
        pool_id = pool["Id"]
    else:
        pool_id = found["Id"]
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    if sorted(pool.get("AliasAttributes") or []) != SIGN_IN_SETTINGS["AliasAttributes"] or pool.get(
            "UsernameAttributes"):
        # Sign-in attributes cannot change on an existing pool, and recreating it would delete every user.
        raise StackError(f"user pool {r.USER_POOL} ({pool_id}) signs in by e-mail only, from before usernames: "
                         "recreate it (locally `make reset`, which wipes users and albums; on AWS `make destroy`)")
    return pool_id, pool["Arn"], _ensure_client(cognito, pool_id)


def password_policy(target: Target, pool_id: str) -> dict[str, Any]:
    """The pool's own password rules (what Cognito enforces), for the sign-up form's checklist."""
    pool = target.client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    policy: dict[str, Any] = pool["Policies"]["PasswordPolicy"]
    return policy


def _ensure_client(cognito: Client, pool_id: str) -> str:
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    existing = next((c for c in clients if c["ClientName"] == r.USER_POOL_CLIENT), None)
    client_id: str
    if existing is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=r.USER_POOL_CLIENT, **CLIENT_SETTINGS
        )["UserPoolClient"]["ClientId"]
        return client_id
    client_id = existing["ClientId"]
    current = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    wanted = {k: v for k, v in CLIENT_SETTINGS.items() if k != "GenerateSecret"}
    if sorted(current.get("ExplicitAuthFlows", [])) != sorted(wanted["ExplicitAuthFlows"]) or current.get(
        "IdTokenValidity"
    ) != wanted["IdTokenValidity"]:
        cognito.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ClientName=r.USER_POOL_CLIENT, **wanted)
    return client_id


def destroy(target: Target) -> None:
    cognito = target.client("cognito-idp")
    pool = find_pool(cognito)
    if pool is not None:
        cognito.delete_user_pool(UserPoolId=pool["Id"])
