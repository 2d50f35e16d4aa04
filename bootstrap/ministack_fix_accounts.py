"""MiniStack fidelity fixes for accounts (remove each when MiniStack does it itself). Checked by
tests/integration/test_account_fixes.py.

MiniStack 1.5.33 differs from Cognito on AWS in three ways the app depends on:

1. It never invokes a pool's PostConfirmation trigger (no code path). On AWS, Cognito calls it after ConfirmSignUp
   and AdminConfirmSignUp (`PostConfirmation_ConfirmSignUp`) and after ConfirmForgotPassword
   (`PostConfirmation_ConfirmForgotPassword`), and waits for it: a trigger that fails makes the call fail with
   UserLambdaValidationException (the confirmation itself stands). The stack's albums-new-user trigger is what makes
   a new local user an editor.
2. UpdateUserAttributes writes whatever it is given: any attribute, whatever the app client may write (`email_verified`
   too), and a new `email` stays verified. On AWS an attribute outside the client's WriteAttributes is refused
   (NotAuthorizedException), a changed e-mail is unverified until the user confirms a code sent to it, and with the
   pool's `AttributesRequireVerificationBeforeUpdate: [email]` the old address stays in place (and stays the sign-in
   alias) until then. Without this, a user could set their e-mail to a victim's verified address and sign in as
   the victim's alias. MiniStack has no VerifyUserAttribute, so locally such a change simply never completes.
3. DeleteUser and AdminDeleteUser leave the user's name in its groups' member lists (AWS removes the memberships).

Imported by bootstrap/ministack_server.py before it serves, like ministack_fixes.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ministack.services import cognito

log = logging.getLogger("stack.fixes")

Handler = Callable[[dict[str, Any]], Any]

SIGN_UP = "PostConfirmation_ConfirmSignUp"
FORGOT_PASSWORD = "PostConfirmation_ConfirmForgotPassword"
VERIFIED_ATTRIBUTES = ("email", "phone_number")


def _status(response: Any) -> int | None:
    return response[0] if isinstance(response, tuple) else getattr(response, "status_code", None)


# ---- 1. PostConfirmation -----------------------------------------------------------------------------------------


def _by_client(data: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None, dict[str, Any] | None]:
    pool, pool_id = cognito._pool_for_client(data.get("ClientId"))
    return pool, pool_id, _user(pool, data.get("Username"))


def _by_pool_id(data: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None, dict[str, Any] | None]:
    pool, error = cognito._resolve_pool(data.get("UserPoolId"))
    if error or pool is None:
        return None, None, None
    return pool, data.get("UserPoolId"), _user(pool, data.get("Username"))


def _user(pool: dict[str, Any] | None, login: Any) -> dict[str, Any] | None:
    if pool is None or not isinstance(login, str):
        return None
    user, error = cognito._resolve_user(pool, login)
    return None if error else user


def _post_confirmation_event(pool_id: str, user: dict[str, Any], source: str, client_id: str) -> dict[str, Any]:
    """The event Cognito sends a PostConfirmation trigger (Cognito Developer Guide, "Post confirmation")."""
    attributes = cognito._attr_list_to_dict(user.get("Attributes", []))
    attributes.setdefault("cognito:user_status", user.get("UserStatus", "CONFIRMED"))
    return {
        "version": "1",
        "region": cognito._pool_region(pool_id),
        "userPoolId": pool_id,
        "userName": user["Username"],
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown",
                          "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE"},
        "triggerSource": source,
        "request": {"userAttributes": attributes, "clientMetadata": {}},
        "response": {},
    }


def _invoke_post_confirmation(pool: dict[str, Any], pool_id: str, user: dict[str, Any], source: str,
                              client_id: str) -> str | None:
    """Run the pool's PostConfirmation trigger, if it has one, and wait for it. The failure's text, or None."""
    arn = (pool.get("LambdaConfig") or {}).get("PostConfirmation")
    if not arn:
        return None
    from ministack.services import lambda_svc  # as cognito.py does for its own triggers (import cycle)

    try:
        record, config, _name = lambda_svc._get_func_record_for_ref(arn)
        if record is None or config is None:
            return f"function {arn} not found"
        result = lambda_svc._execute_function_with_config_scope(
            lambda_svc._execution_record_for_config(record, config),
            _post_confirmation_event(pool_id, user, source, client_id))
    except Exception as error:  # the trigger's failure is the caller's answer, not a crash of the emulator
        log.warning("PostConfirmation trigger %s failed: %s", arn, error)
        return str(error)
    if isinstance(result, dict) and result.get("error"):
        return str(result.get("body") or "the function failed")
    return None


def _with_post_confirmation(handler: Handler, source: str,
                            find: Callable[[dict[str, Any]], tuple[Any, Any, Any]]) -> Handler:
    def confirm(data: dict[str, Any]) -> Any:
        response = handler(data)
        if _status(response) != 200:
            return response
        pool, pool_id, user = find(data)
        if pool is None or pool_id is None or user is None:
            return response
        failure = _invoke_post_confirmation(pool, pool_id, user, source, data.get("ClientId") or "")
        if failure is None:
            return response
        return cognito.error_response_json(
            "UserLambdaValidationException", f"PostConfirmation failed with error {failure}.", 400)

    return confirm


# ---- 2. UpdateUserAttributes ------------------------------------------------------------------------------------


def _update_user_attributes_as_on_aws(update: Handler) -> Handler:
    def update_attributes(data: dict[str, Any]) -> Any:
        token = data.get("AccessToken") or ""
        user, pool = cognito._user_pool_for_access_token(token)
        if user is None or pool is None:
            return update(data)  # MiniStack's own answer for a bad token
        requested = data.get("UserAttributes") or []
        writable = set((pool["_clients"].get(cognito._token_claims(token).get("client_id")) or {})
                       .get("WriteAttributes") or [])
        refused = [a.get("Name") for a in requested if writable and a.get("Name") not in writable]
        if refused:
            return cognito.error_response_json(
                "NotAuthorizedException", "A client attempted to write unauthorized attribute", 400)
        before = cognito._attr_list_to_dict(user.get("Attributes", []))
        held = set((pool.get("UserAttributeUpdateSettings") or {}).get("AttributesRequireVerificationBeforeUpdate")
                   or [])
        changed = {a.get("Name") for a in requested
                   if a.get("Name") in VERIFIED_ATTRIBUTES and before.get(a.get("Name")) != a.get("Value")}
        applied = [a for a in requested if a.get("Name") not in changed & held]
        pending = {a.get("Name"): a.get("Value") for a in requested if a.get("Name") in changed & held}
        response = update({**data, "UserAttributes": applied})
        if _status(response) != 200:
            return response
        attributes = cognito._attr_list_to_dict(user.get("Attributes", []))
        for name in changed - held:
            attributes[f"{name}_verified"] = "false"  # a new address is not verified (and so not a sign-in alias)
        user["Attributes"] = cognito._dict_to_attr_list(attributes)
        if pending:
            # Kept aside until verified, as on AWS; MiniStack cannot verify it (no VerifyUserAttribute).
            user["_pending_attribute_updates"] = {**user.get("_pending_attribute_updates", {}), **pending}
        return response

    return update_attributes


# ---- 3. Deleting a user leaves their groups -----------------------------------------------------------------------


def _leaving_groups(delete: Handler, find: Callable[[dict[str, Any]], tuple[Any, Any]]) -> Handler:
    def delete_user(data: dict[str, Any]) -> Any:
        pool, user = find(data)
        response = delete(data)
        if _status(response) == 200 and pool is not None and user is not None:
            for group in user.get("_groups", []):
                members = (pool["_groups"].get(group) or {}).get("_members", [])
                if user["Username"] in members:
                    members.remove(user["Username"])
        return response

    return delete_user


def _self(data: dict[str, Any]) -> tuple[Any, Any]:
    user, pool = cognito._user_pool_for_access_token(data.get("AccessToken") or "")
    return pool, user


def _admin(data: dict[str, Any]) -> tuple[Any, Any]:
    pool, _pool_id, user = _by_pool_id(data)
    return pool, user


# The dispatcher looks handlers up by name on every request (cognito._dispatch_idp builds its table per call).
cognito._confirm_sign_up = _with_post_confirmation(cognito._confirm_sign_up, SIGN_UP, _by_client)
cognito._admin_confirm_sign_up = _with_post_confirmation(cognito._admin_confirm_sign_up, SIGN_UP, _by_pool_id)
cognito._confirm_forgot_password = _with_post_confirmation(
    cognito._confirm_forgot_password, FORGOT_PASSWORD, _by_client)
cognito._update_user_attributes = _update_user_attributes_as_on_aws(cognito._update_user_attributes)
cognito._delete_user = _leaving_groups(cognito._delete_user, _self)
cognito._admin_delete_user = _leaving_groups(cognito._admin_delete_user, _admin)
