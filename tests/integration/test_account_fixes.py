"""bootstrap/ministack_fix_accounts.py: the emulator does what Cognito on AWS does for the pool's PostConfirmation
trigger, for a change of e-mail, and for a deleted user's groups."""

from __future__ import annotations

import pytest

from bootstrap.access import outputs
from tests.clients import User, cognito, confirmed_user, read_code, sign_up

EDITORS = "editors"


def groups_of(user: User) -> set[str]:
    answer = cognito().admin_list_groups_for_user(UserPoolId=outputs()["UserPoolId"], Username=user.username)
    return {group["GroupName"] for group in answer["Groups"]}


def email_of(user: User) -> dict[str, str]:
    attributes = cognito().admin_get_user(UserPoolId=outputs()["UserPoolId"], Username=user.username)
    return {item["Name"]: item["Value"] for item in attributes["UserAttributes"] if item["Name"].startswith("email")}


def test_post_confirmation_runs_for_an_admin_confirmation_too(stack: dict) -> None:
    user = sign_up("adminconfirmed")
    assert groups_of(user) == set()
    cognito().admin_confirm_sign_up(UserPoolId=stack["UserPoolId"], Username=user.username)
    assert groups_of(user) == {EDITORS}


def test_a_password_reset_does_not_give_back_a_revoked_role(stack: dict) -> None:
    """Cognito sends PostConfirmation_ConfirmForgotPassword too: the trigger must not grant on it."""
    user = confirmed_user("reset")
    cognito().admin_remove_user_from_group(UserPoolId=stack["UserPoolId"], Username=user.username, GroupName=EDITORS)
    cognito().forgot_password(ClientId=stack["UserPoolClientId"], Username=user.username)
    user.password = "Reset1!" + user.password
    cognito().confirm_forgot_password(ClientId=stack["UserPoolClientId"], Username=user.username,
                                      ConfirmationCode=read_code(user.email), Password=user.password)
    assert groups_of(user) == set()


def test_nobody_takes_over_another_users_e_mail(stack: dict) -> None:
    victim, attacker = confirmed_user("victim"), confirmed_user("attacker")
    token = attacker.tokens["AccessToken"]

    cognito().update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": victim.email}])
    with pytest.raises(cognito().exceptions.NotAuthorizedException):
        cognito().update_user_attributes(AccessToken=token,
                                         UserAttributes=[{"Name": "email_verified", "Value": "true"}])

    # The new address waits for a verification it never gets: the attacker keeps their own, the victim theirs.
    assert email_of(attacker) == {"email": attacker.email, "email_verified": "true"}
    assert email_of(victim) == {"email": victim.email, "email_verified": "true"}
    signed_in = cognito().initiate_auth(
        ClientId=stack["UserPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": victim.email, "PASSWORD": victim.password})["AuthenticationResult"]
    assert cognito().get_user(AccessToken=signed_in["AccessToken"])["Username"] == victim.username


def test_a_deleted_user_leaves_their_groups(stack: dict) -> None:
    """Seen from outside: someone who signs up again under the freed username is listed once, not twice."""
    user = confirmed_user("leaving")
    cognito().delete_user(AccessToken=user.tokens["AccessToken"])
    again = User(email=user.email, password=user.password, username=user.username)
    again.sub = cognito().sign_up(ClientId=stack["UserPoolClientId"], Username=again.username,
                                  Password=again.password,
                                  UserAttributes=[{"Name": "email", "Value": again.email}])["UserSub"]
    cognito().admin_confirm_sign_up(UserPoolId=stack["UserPoolId"], Username=again.username)

    members = cognito().list_users_in_group(UserPoolId=stack["UserPoolId"], GroupName=EDITORS, Limit=60)
    listed = [member["Username"] for member in members["Users"]]
    while "NextToken" in members:
        members = cognito().list_users_in_group(UserPoolId=stack["UserPoolId"], GroupName=EDITORS, Limit=60,
                                                NextToken=members["NextToken"])
        listed += [member["Username"] for member in members["Users"]]
    assert listed.count(user.username) == 1
