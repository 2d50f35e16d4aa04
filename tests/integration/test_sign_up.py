"""Sign-up against the real (emulated) Cognito pool: the e-mailed code is really checked (AUTH=true)."""

import pytest

from tests.support import cognito, outputs, read_code, sign_in, sign_up


def test_a_wrong_code_is_refused_and_the_mailed_code_confirms() -> None:
    pool, client_id = outputs()["UserPoolId"], outputs()["UserPoolClientId"]
    user = sign_up("confirm")
    code = read_code(user.email)
    wrong = "000000" if code != "000000" else "111111"

    with pytest.raises(cognito().exceptions.CodeMismatchException):
        cognito().confirm_sign_up(ClientId=client_id, Username=user.email, ConfirmationCode=wrong)
    assert cognito().admin_get_user(UserPoolId=pool, Username=user.email)["UserStatus"] == "UNCONFIRMED"
    with pytest.raises(cognito().exceptions.UserNotConfirmedException):
        sign_in(user)

    cognito().confirm_sign_up(ClientId=client_id, Username=user.email, ConfirmationCode=code)
    assert cognito().admin_get_user(UserPoolId=pool, Username=user.email)["UserStatus"] == "CONFIRMED"
    assert sign_in(user).id_token


def test_sign_in_is_by_email_and_the_username_is_a_display_name() -> None:
    user = sign_up("names")
    cognito().confirm_sign_up(ClientId=outputs()["UserPoolClientId"], Username=user.email,
                              ConfirmationCode=read_code(user.email))
    claims = _claims(sign_in(user).id_token)
    assert claims["email"] == user.email and claims["preferred_username"] == user.username
    assert claims["sub"] == user.sub


def _claims(token: str) -> dict:
    import base64
    import json

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
