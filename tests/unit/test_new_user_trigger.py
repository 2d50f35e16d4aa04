"""albums-new-user, the pool's PostConfirmation trigger (moto's Cognito): a confirmed sign-up joins `editors`; a reset
password does not give back a role that was taken away; the event goes back to Cognito unchanged."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from albums.handlers import new_user


@pytest.fixture
def pool():
    with mock_aws():
        new_user.cognito.cache_clear()
        cognito = boto3.client("cognito-idp")
        pool_id = cognito.create_user_pool(PoolName="projectpool")["UserPool"]["Id"]
        cognito.create_group(UserPoolId=pool_id, GroupName="editors")
        cognito.admin_create_user(UserPoolId=pool_id, Username="alice")
        yield cognito, pool_id
    new_user.cognito.cache_clear()


def event(pool_id: str, source: str) -> dict:
    return {"version": "1", "region": "us-east-1", "userPoolId": pool_id, "userName": "alice",
            "callerContext": {"awsSdkVersion": "x", "clientId": "c"}, "triggerSource": source,
            "request": {"userAttributes": {"email": "alice@example.com"}}, "response": {}}


def groups(cognito, pool_id: str) -> set[str]:
    return {g["GroupName"] for g in cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username="alice")["Groups"]}


def test_a_confirmed_sign_up_joins_the_editors(pool, context) -> None:
    cognito, pool_id = pool
    sent = event(pool_id, "PostConfirmation_ConfirmSignUp")
    assert new_user.handler(sent, context) == sent
    assert groups(cognito, pool_id) == {"editors"}


def test_a_password_reset_grants_nothing(pool, context) -> None:
    cognito, pool_id = pool
    sent = event(pool_id, "PostConfirmation_ConfirmForgotPassword")
    assert new_user.handler(sent, context) == sent
    assert groups(cognito, pool_id) == set()
