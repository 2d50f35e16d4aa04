"""Sign-up against the real (emulated) Cognito pool: the e-mailed code is really checked (AUTH=true), usernames are
unique at sign-up, and sign-in takes the username or, once verified, the e-mail."""

import base64
import json
import secrets

import pytest

from bootstrap.access import outputs
from tests.clients import cognito, make_password, read_code, sign_in, sign_up


def test_a_wrong_code_is_refused_and_the_mailed_code_confirms() -> None:
    pool, client_id = outputs()["UserPoolId"], outputs()["UserPoolClientId"]
    user = sign_up("confirm")
    code = read_code(user.email)
    wrong = "000000" if code != "000000" else "111111"

    with pytest.raises(cognito().exceptions.CodeMismatchException):
        cognito().confirm_sign_up(ClientId=client_id, Username=user.username, ConfirmationCode=wrong)
    assert cognito().admin_get_user(UserPoolId=pool, Username=user.username)["UserStatus"] == "UNCONFIRMED"
    with pytest.raises(cognito().exceptions.UserNotConfirmedException):
        sign_in(user, user.username)

    cognito().confirm_sign_up(ClientId=client_id, Username=user.username, ConfirmationCode=code)
    assert cognito().admin_get_user(UserPoolId=pool, Username=user.username)["UserStatus"] == "CONFIRMED"
    assert sign_in(user, user.username).id_token


def test_a_taken_username_is_refused_at_sign_up() -> None:
    # MiniStack 1.5.33 ignores CaseSensitive=False ("ALICE" is another user there, the same one on AWS): the site
    # therefore sends usernames in lower case, which behaves the same on both.
    first = sign_up("taken")
    with pytest.raises(cognito().exceptions.UsernameExistsException):
        cognito().sign_up(ClientId=outputs()["UserPoolClientId"], Username=first.username, Password=make_password(),
                          UserAttributes=[{"Name": "email", "Value": f"other-{secrets.token_hex(4)}@example.com"}])


def test_the_email_signs_in_only_once_verified_and_the_token_names_the_user() -> None:
    client_id = outputs()["UserPoolClientId"]
    user = sign_up("names")
    # Unverified, the e-mail is no alias yet (as on AWS): confirming by it is refused.
    with pytest.raises(cognito().exceptions.CodeMismatchException):
        cognito().confirm_sign_up(ClientId=client_id, Username=user.email, ConfirmationCode=read_code(user.email))
    cognito().confirm_sign_up(ClientId=client_id, Username=user.username, ConfirmationCode=read_code(user.email))
    # Confirming with the e-mailed code verified the e-mail (bootstrap/ministack_fixes.py), so it now signs in.
    by_email = _claims(sign_in(user, user.email).id_token)
    by_username = _claims(sign_in(user, user.username).id_token)
    for claims in (by_email, by_username):
        assert claims["email"] == user.email and claims["cognito:username"] == user.username
        assert claims["sub"] == user.sub and claims["email_verified"] is True


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
