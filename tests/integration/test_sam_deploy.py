"""AWS's own tool accepts the template: `sam deploy` of template.yaml (SAM CLI from .venv-sam, `make sam`) into a
MiniStack of this module's own gives a working API. Nothing of the bootstrap takes part in the deploy: SAM CLI
packages `Code: lambdas/` itself, there is no post-deploy step and no seed (the table starts empty).

The MiniStack runs as the bootstrap runs it (AUTH=true) on a port from THROWAWAY_PORT or, unset, a free one; it is
stopped at the end of the module whatever happened."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bootstrap import template as tpl
from bootstrap.access import ROOT, session
from bootstrap.emulator import Emulator
from tests.clients import User, make_password
from tests.integration.conftest import album
from tests.support import throwaway_port

pytestmark = pytest.mark.own_stack  # waits on a stack of its own: scheduled first (conftest.py)

SAM = Path(os.environ.get("SAM_CLI", ROOT / ".venv-sam" / "bin" / "sam"))
REGION = "us-east-1"
STACK_NAME = "albums-sam"
ARTIFACTS_BUCKET = "albums-sam-artifacts"  # what `sam deploy --s3-bucket` uploads the function zip to
SITE_BUCKET = "albums-sam-site"
ORIGIN = "http://example.test"


@dataclass(frozen=True)
class Deployed:
    endpoint: str
    outputs: dict[str, str]
    resources: dict[str, str]  # logical id -> status

    @property
    def album_url(self) -> str:
        return f"{self.endpoint}/_aws/execute-api/{self.outputs['RestApiId']}/prod/album"

    def client(self, service: str) -> Any:
        return session(REGION, local=True).client(service, endpoint_url=self.endpoint)


def sam_deploy(endpoint: str, work: Path) -> None:
    """`sam deploy` as a user runs it, pointed at the emulator by AWS_ENDPOINT_URL alone."""
    app_dir = work / "sam-app"  # SAM CLI's own settings, not the developer's ~/.aws-sam
    app_dir.mkdir()
    # After each command SAM CLI asks PyPI for a newer release (up to 5 s) unless it did so this week: it just did.
    (app_dir / "metadata.json").write_text(json.dumps({"lastVersionCheck": time.time()}))
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}  # no profile, no keys
    env |= {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": REGION, "SAM_CLI_TELEMETRY": "0",
            "SAM_CLI_POLL_DELAY": "0.1",  # default 5 s between polls: MiniStack completes in well under a second
            "__SAM_CLI_APP_DIR": str(app_dir)}
    command = [str(SAM), "deploy", "--template-file", str(tpl.TEMPLATE), "--stack-name", STACK_NAME,
               "--region", REGION,  # botocore (in SAM CLI's pins) reads AWS_DEFAULT_REGION, not AWS_REGION
               "--s3-bucket", ARTIFACTS_BUCKET, "--capabilities", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND",
               "--parameter-overrides", f"SiteBucketName={SITE_BUCKET}", f"SiteOrigin={ORIGIN}", "PasswordAuth=true",
               "--no-confirm-changeset", "--no-progressbar",
               "--language-extensions"]  # SAM CLI expands Fn::ForEach itself only when told (1.170)
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"sam deploy failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n" \
                                 f"{done.stderr[-4000:]}"


def wait_for_sam_cli(timeout: float = 240) -> None:
    """`make test` installs SAM CLI beside the other suites (tests/suites.py): wait for `make sam` to finish."""
    deadline = time.monotonic() + timeout
    while not (SAM.exists() and ("SAM_CLI" in os.environ or list(SAM.parent.parent.glob(".installed-*")))):
        if time.monotonic() > deadline:
            pytest.fail(f"SAM CLI not installed at {SAM} after {timeout:.0f} s: `make sam` installs it into .venv-sam")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    wait_for_sam_cli()
    work = tmp_path_factory.mktemp("sam")
    emulator = Emulator(work / "stack", throwaway_port())
    try:
        emulator.start()
        aws = session(REGION, local=True)
        aws.client("s3", endpoint_url=emulator.endpoint).create_bucket(Bucket=ARTIFACTS_BUCKET)
        sam_deploy(emulator.endpoint, work)
        cfn = aws.client("cloudformation", endpoint_url=emulator.endpoint)
        stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        resources = {res["LogicalResourceId"]: res["ResourceStatus"]
                     for page in cfn.get_paginator("list_stack_resources").paginate(StackName=STACK_NAME)
                     for res in page["StackResourceSummaries"]}
        yield Deployed(emulator.endpoint, {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}, resources)
    finally:
        emulator.stop(hard=True)  # a throwaway: nothing to save


@pytest.fixture(scope="module")
def signed_in(deployed: Deployed) -> User:
    """A user as the site makes one: sign-up with the stack's client, the code from the verification e-mail, made an
    editor as `make editor` does (by default new users are readers), then USER_PASSWORD_AUTH (PasswordAuth=true)."""
    cognito, client_id = deployed.client("cognito-idp"), deployed.outputs["UserPoolClientId"]
    tag = secrets.token_hex(4)
    user = User(email=f"sam-{tag}@example.com", password=make_password(), username=f"sam{tag}")
    user.sub = cognito.sign_up(ClientId=client_id, Username=user.username, Password=user.password,
                               UserAttributes=[{"Name": "email", "Value": user.email}])["UserSub"]
    cognito.confirm_sign_up(ClientId=client_id, Username=user.username,
                            ConfirmationCode=verification_code(deployed.endpoint, user.email))
    cognito.admin_add_user_to_group(UserPoolId=deployed.outputs["UserPoolId"], Username=user.username,
                                    GroupName="editors")
    result = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": user.username, "PASSWORD": user.password})
    user.id_token = result["AuthenticationResult"]["IdToken"]
    return user


def verification_code(endpoint: str, email: str) -> str:
    """The code in the template's verification message, read from MiniStack's mailbox."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = requests.get(f"{endpoint}/_ministack/ses/messages", timeout=5).json().get("messages", {})
        for message in [m for account in messages.values() for m in account if email in m.get("To", [])]:
            text = message.get("BodyText", "")
            assert text.startswith("Your Albums verification code is "), text  # VerificationMessageTemplate
            return str(text).rsplit(" ", 1)[-1].strip()
        time.sleep(0.1)
    raise AssertionError(f"no verification e-mail for {email}")


def test_sam_deploy_creates_every_resource_of_the_template(deployed: Deployed) -> None:
    # All but the PostConfirmation trigger's four: by default (as on AWS) new users are readers, not editors.
    made = [name for name, res in tpl.expanded(tpl.load())["Resources"].items()
            if res.get("Condition") != "NewUsersJoinEditors"]
    assert deployed.resources == dict.fromkeys(made, "CREATE_COMPLETE")
    assert deployed.outputs["BucketName"] == SITE_BUCKET
    # SAM CLI zipped `Code: lambdas/` and uploaded it: the functions run the albums package's handlers.
    function = deployed.client("lambda").get_function(FunctionName="albums-get")
    assert function["Configuration"]["Handler"] == "albums.handlers.get.handler"
    assert deployed.client("s3").list_objects_v2(Bucket=ARTIFACTS_BUCKET)["KeyCount"] >= 1


def test_without_a_token_the_api_answers_401_with_cors(deployed: Deployed) -> None:
    response = requests.get(deployed.album_url, headers={"Origin": ORIGIN}, timeout=30)
    assert response.status_code == 401, response.text
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_the_preflight_is_open_with_cors(deployed: Deployed) -> None:
    response = requests.options(deployed.album_url, timeout=30, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"].split(",")
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"].split(",")


def test_a_signed_in_user_lists_and_creates_albums(deployed: Deployed, signed_in: User) -> None:
    api = requests.Session()
    api.headers.update({"Origin": ORIGIN, "Authorization": signed_in.id_token})

    empty = api.get(deployed.album_url, timeout=30)
    assert empty.status_code == 200, empty.text
    assert empty.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert (empty.json()["items"], empty.json()["total"]) == ([], 0)  # nothing seeds this stack

    created = api.post(deployed.album_url, json=album(7), timeout=30)
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["createdBy"]) == (1, signed_in.sub)

    assert api.get(deployed.album_url, params={"rank": 7}, timeout=30).json()["Album"] == album(7)["Album"]
    listed = api.get(deployed.album_url, timeout=30).json()
    assert ([a["Rank"] for a in listed["items"]], listed["total"]) == ([7], 1)
