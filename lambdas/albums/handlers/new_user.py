"""albums-new-user: the pool's PostConfirmation trigger; a user who has just confirmed their sign-up becomes an editor.

The stack has it only where `NewUsersAreEditors` is "true" (the emulator stacks, so that the app's first minutes stay
as they were: sign up, then add, edit and delete). On AWS the parameter is "false" by default: new users are readers
until `make editor USER=<them>`.

Only a sign-up's confirmation grants. Cognito sends the same trigger when a forgotten password is reset
(`PostConfirmation_ConfirmForgotPassword`), and a reset must not give back what `make editor REVOKE=1` took away.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import boto3

from albums.authorization import EDITORS_GROUP
from albums.http import configure_logging

SIGN_UP_CONFIRMED = "PostConfirmation_ConfirmSignUp"

logger = logging.getLogger("albums")
configure_logging("INFO")


@functools.cache
def cognito() -> Any:
    return boto3.client("cognito-idp")


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """Cognito waits for the answer (the event itself) before it answers the confirmation, so the user's first ID
    token already carries the group; if this fails, the confirmation fails with the error and the user stays a
    reader (confirmed all the same, as Cognito does)."""
    source = event.get("triggerSource")
    if source == SIGN_UP_CONFIRMED:
        cognito().admin_add_user_to_group(
            UserPoolId=event["userPoolId"], Username=event["userName"], GroupName=EDITORS_GROUP)
    logger.info("post confirmation", extra={"fields": {
        "trigger_source": source, "user": event.get("userName"), "made_editor": source == SIGN_UP_CONFIRMED}})
    return event
