"""One MiniStack fidelity fix the app depends on (remove it when MiniStack does this itself).

On AWS, confirming a sign-up with the code e-mailed to the user (the pool auto-verifies `email`) marks the e-mail
verified, and a verified e-mail is what makes it usable as a sign-in alias. MiniStack 1.5.33's ConfirmSignUp only
sets the status to CONFIRMED, so signing in by e-mail would never work locally. This wrapper adds the missing
`email_verified = "true"` after a successful confirmation, and nothing else. Our server (ministack_server.py, run by
path from this folder) imports this module before it serves; tests/integration/test_sign_up.py checks the behaviour.
"""

from __future__ import annotations

from typing import Any

from ministack.services import cognito

_confirm_sign_up = cognito._confirm_sign_up


def _confirm_sign_up_verifying_email(data: dict[str, Any]) -> Any:
    response = _confirm_sign_up(data)
    if _status(response) == 200:
        pool, _pool_id = cognito._pool_for_client(data.get("ClientId"))
        user = cognito._resolve_user(pool, data.get("Username"))[0] if pool else None
        if user and "email" in (pool.get("AutoVerifiedAttributes") or []):
            attributes = cognito._attr_list_to_dict(user.get("Attributes", []))
            if attributes.get("email"):
                attributes["email_verified"] = "true"
                user["Attributes"] = cognito._dict_to_attr_list(attributes)
    return response


def _status(response: Any) -> int | None:
    return response[0] if isinstance(response, tuple) else getattr(response, "status_code", None)


# ConfirmSignUp is looked up by name on every request (cognito._dispatch_idp builds its table per call).
cognito._confirm_sign_up = _confirm_sign_up_verifying_email
