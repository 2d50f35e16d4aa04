"""Runs the Postman collection with newman against the running stack.

Builds a Postman environment from `$STACK_DIR/outputs.json` (the API's base URL, the Cognito endpoint and app
client, and a fresh confirmed user's e-mail and password: the collection's "Sign in" request gets the ID token
itself, as it does in the Postman app), runs every request (no --bail: later requests clean up the album
earlier ones made, and a full run reports every broken assertion), writes JUnit to test-results/newman.xml and
ends with one line `newman: N passed, M failed`. Exits non-zero when anything failed or nothing was asserted.

    STACK_DIR=.stack-test PORT=4599 .venv/bin/python tests/postman/run.py
    STACK_DIR=.stack .venv/bin/python tests/postman/run.py --write-environment   # `make postman-env`: for the app
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script (`make test-postman`): make `tests.support` importable

from bootstrap.access import StackNotRunning, outputs  # noqa: E402
from tests.clients import confirmed_user  # noqa: E402

COLLECTION = ROOT / "tests" / "postman" / "albums.postman_collection.json"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
RESULTS = ROOT / "test-results"


def cognito_url(stack: dict[str, Any]) -> str:
    """Where InitiateAuth goes: the emulator's endpoint, or Cognito's regional endpoint on AWS."""
    return f"{stack['EndpointUrl']}/" if stack["EndpointUrl"] else f"https://cognito-idp.{stack['Region']}.amazonaws.com/"


def environment(stack: dict[str, Any], email: str = "", password: str = "") -> dict[str, Any]:
    values = {"apiUrl": stack["ApiUrl"], "cognitoUrl": cognito_url(stack),
              "userPoolClientId": stack["UserPoolClientId"], "siteOrigin": stack["SiteOrigin"], "email": email,
              "password": password}
    return {
        "name": f"albums {stack.get('Target', '')} (generated from outputs.json)",
        "values": [{"key": key, "value": value, "type": "secret" if key == "password" else "default",
                    "enabled": True} for key, value in values.items()],
        "_postman_variable_scope": "environment",
    }


def write_environment() -> int:
    """`make postman-env`: an environment file for the Postman app, next to the stack's outputs (never committed).
    E-mail and password stay empty: fill in a user you signed up on the site."""
    try:
        stack = outputs()
    except StackNotRunning as error:
        print(f"the stack is not running: {error}", file=sys.stderr)
        return 2
    target = Path(os.environ.get("STACK_DIR", ROOT / ".stack")) / "postman-environment.json"  # beside outputs.json
    target.write_text(json.dumps(environment(stack), indent=2) + "\n")
    print(f"wrote {target}: import it in Postman (Environments > Import), set email and password, then run "
          "the collection (Sign in first)")
    return 0


def assertion_counts(report: Path) -> tuple[int, int, int]:
    """(passed assertions, failed assertions, script errors) from newman's JSON report."""
    stats = json.loads(report.read_text())["run"]["stats"]
    total, failed = stats["assertions"]["total"], stats["assertions"]["failed"]
    script_errors = stats["testScripts"]["failed"] + stats["prerequestScripts"]["failed"]
    return total - failed, failed, script_errors


def main() -> int:
    if not NEWMAN.exists():
        print(f"newman is not installed ({NEWMAN.relative_to(ROOT)} is missing): run `npm ci` or `make install`",
              file=sys.stderr)
        return 2
    try:
        stack = outputs()
        user = confirmed_user("postman")
    except StackNotRunning as error:
        print(f"the stack is not running: {error}", file=sys.stderr)
        return 2

    RESULTS.mkdir(exist_ok=True)
    # The environment holds a password: keep it out of test-results/, which CI uploads.
    with tempfile.TemporaryDirectory(prefix="newman-") as tmp:
        env_file, report = Path(tmp) / "environment.json", Path(tmp) / "report.json"
        env_file.write_text(json.dumps(environment(stack, user.email, user.password), indent=2))
        started = time.monotonic()
        newman = subprocess.run([
            str(NEWMAN), "run", str(COLLECTION), "--environment", str(env_file),
            "--reporters", "cli,junit,json",
            "--reporter-junit-export", str(RESULTS / "newman.xml"),
            "--reporter-json-export", str(report),
            "--timeout-request", "30000", "--timeout", "300000",
        ], cwd=ROOT, check=False)
        elapsed = time.monotonic() - started
        passed, failed, script_errors = assertion_counts(report) if report.exists() else (0, 0, 0)

    errors = f"; {script_errors} script error(s)" if script_errors else ""
    print(f"newman exited {newman.returncode} after {elapsed:.1f}s{errors}; JUnit: test-results/newman.xml")
    print(f"newman: {passed} passed, {failed} failed")
    return 1 if failed or not passed or script_errors or newman.returncode else 0


if __name__ == "__main__":
    sys.exit(write_environment() if sys.argv[1:] == ["--write-environment"] else main())
