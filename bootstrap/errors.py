"""The bootstrap's errors, and how every command of it reports them: one readable line, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError


class StackError(Exception):
    """A problem the person running the bootstrap can act on; printed as one line, never as a traceback."""


def reported(target_name: str, command: Callable[[], None]) -> int:
    """Run a command; what goes wrong becomes one line on stderr and exit code 1 (0 when all went well)."""
    try:
        command()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
    except EndpointConnectionError as error:
        print(f"error: cannot reach {target_name} ({error.kwargs.get('endpoint_url')}): is the stack running? "
              "Try `make up`.", file=sys.stderr)
    except NoCredentialsError:
        print("error: no AWS credentials: configure a profile (aws configure) or set AWS_PROFILE", file=sys.stderr)
    except ClientError as error:
        info = error.response.get("Error", {})
        print(f"error: {error.operation_name} refused: {info.get('Code')}: {info.get('Message')}", file=sys.stderr)
    else:
        return 0
    return 1
