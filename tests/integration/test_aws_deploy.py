"""The AWS code path (`make deploy TARGET=aws`, `make destroy TARGET=aws`) on an offline AWS: a MiniStack of this
module's own, deployed to by an IAM user that holds only iam/deployer-policy.json.

`python -m bootstrap ... --target aws` runs as a user runs it: no endpoint of its own (boto3 finds the emulator through
AWS_ENDPOINT_URL), the user's keys, AWS_REGION, an AWS_STACK_DIR, no profile. MiniStack (AUTH=true) checks each of the
bootstrap's own calls against the policy, CloudFormation's API included; it does NOT check what its CloudFormation
engine does on the user's behalf (the engine writes the resources straight into the services' state, and iam:PassRole
is never checked), so those actions are covered from AWS's resource schemas by tests/unit/test_deployer_policy.py.

The MiniStack runs on a port from THROWAWAY_PORT or, unset, a free one; it is stopped at the end of the module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bootstrap.access import EMULATOR_CREDENTIALS, ROOT
from bootstrap.emulator import Emulator
from tests.support import throwaway_port

pytestmark = pytest.mark.own_stack  # waits on a stack of its own: scheduled first (conftest.py)

POLICY = ROOT / "iam" / "deployer-policy.json"
REGION = "us-east-1"
ACCOUNT = "000000000000"  # MiniStack's account for the root key `test`
SITE_BUCKET = f"testprotest-{ACCOUNT}-{REGION}"
ARTIFACTS_BUCKET = f"albums-artifacts-{ACCOUNT}-{REGION}"
OUTPUT_KEYS = {"Target", "Region", "Account", "EndpointUrl", "UserPoolId", "UserPoolClientId", "RestApiId", "Stage",
               "ApiUrl", "WebsiteUrl", "TableName", "BucketName", "MailboxUrl"}


@dataclass
class OfflineAws:
    endpoint: str
    deployer: dict[str, str]  # the environment of a user holding only the deployer policy
    work: Path
    _clients: dict[str, Any] = field(default_factory=dict)

    def root(self, service: str) -> Any:
        """A client with the account's root key: to look at (and prepare) the account, never to deploy."""
        if service not in self._clients:
            self._clients[service] = boto3.session.Session(region_name=REGION, **EMULATOR_CREDENTIALS).client(
                service, endpoint_url=self.endpoint)
        return self._clients[service]

    def bootstrap(self, command: str, stack_dir: Path) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("AWS_") and key not in {"BUCKET_NAME", "PASSWORD_AUTH"}}  # no profile, no keys
        env |= {**self.deployer, "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": REGION,
                "AWS_STACK_DIR": str(stack_dir)}
        return subprocess.run([sys.executable, "-m", "bootstrap", command, "--target", "aws"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    def stack_status(self) -> str | None:
        try:
            status: str = self.root("cloudformation").describe_stacks(StackName="albums")["Stacks"][0]["StackStatus"]
        except ClientError as error:
            assert "does not exist" in error.response["Error"]["Message"], error
            return None
        return None if status == "DELETE_COMPLETE" else status

    def resources(self) -> dict[str, Any]:
        """What of the stack's own exists in the account, by name."""
        buckets = {b["Name"] for b in self.root("s3").list_buckets()["Buckets"]}
        return {"stack": self.stack_status(),
                "table": "Albums" in self.root("dynamodb").list_tables()["TableNames"],
                "pools": [p["Id"] for p in self.root("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
                          if p["Name"] == "projectpool"],
                "site bucket": SITE_BUCKET in buckets, "code bucket": ARTIFACTS_BUCKET in buckets}


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineAws]:
    work = tmp_path_factory.mktemp("aws")
    emulator = Emulator(work / "ministack", throwaway_port())
    try:
        emulator.start()
        offline = OfflineAws(emulator.endpoint, {}, work)
        iam = offline.root("iam")
        iam.create_user(UserName="albums-deployer")
        policy = iam.create_policy(PolicyName="albums-deployer", PolicyDocument=POLICY.read_text())["Policy"]
        iam.attach_user_policy(UserName="albums-deployer", PolicyArn=policy["Arn"])
        key = iam.create_access_key(UserName="albums-deployer")["AccessKey"]
        offline.deployer = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        yield offline
    finally:
        emulator.stop(hard=True)  # a throwaway: nothing to save


@dataclass
class Lifecycle:
    runs: dict[str, subprocess.CompletedProcess[str]]
    outputs: dict[str, Any]  # outputs.json after the first deploy
    deployed: dict[str, Any]  # the account after the second deploy
    destroyed: dict[str, Any]  # ... after destroy
    outputs_left: bool


@pytest.fixture(scope="module")
def lifecycle(aws: OfflineAws) -> Lifecycle:
    """`make deploy TARGET=aws` twice, then `make destroy TARGET=aws`, as the deployer."""
    stack_dir = aws.work / "stack-aws"
    runs = {"first": aws.bootstrap("up", stack_dir)}
    outputs = json.loads((stack_dir / "outputs.json").read_text()) if runs["first"].returncode == 0 else {}
    runs["second"] = aws.bootstrap("up", stack_dir)
    deployed = aws.resources()
    runs["destroy"] = aws.bootstrap("destroy", stack_dir)
    return Lifecycle(runs, outputs, deployed, aws.resources(), (stack_dir / "outputs.json").exists())


def _ok(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"


def test_the_deployer_holds_nothing_beyond_the_policy(aws: OfflineAws) -> None:
    """Not the root key in disguise: a call the policy does not grant is refused."""
    user = boto3.session.Session(region_name=REGION, aws_access_key_id=aws.deployer["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=aws.deployer["AWS_SECRET_ACCESS_KEY"])
    with pytest.raises(ClientError, match="AccessDenied"):
        user.client("dynamodb", endpoint_url=aws.endpoint).create_table(
            TableName="NotTheStacks", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}])


def test_a_first_deploy_creates_the_stack_seeds_it_and_records_its_outputs(lifecycle: Lifecycle) -> None:
    _ok(lifecycle.runs["first"])
    assert "Seeded 500 albums" in lifecycle.runs["first"].stdout
    outputs = lifecycle.outputs
    assert set(outputs) == OUTPUT_KEYS
    assert (outputs["Target"], outputs["Region"], outputs["Account"]) == ("aws", REGION, ACCOUNT)
    assert (outputs["EndpointUrl"], outputs["MailboxUrl"]) == (None, None)  # AWS's own URLs, no mailbox
    assert (outputs["TableName"], outputs["BucketName"], outputs["Stage"]) == ("Albums", SITE_BUCKET, "prod")
    assert outputs["ApiUrl"] == f"https://{outputs['RestApiId']}.execute-api.{REGION}.amazonaws.com/prod"
    assert lifecycle.deployed == {"stack": "CREATE_COMPLETE", "table": True, "pools": [outputs["UserPoolId"]],
                                  "site bucket": True, "code bucket": True}


def test_a_second_deploy_changes_nothing(lifecycle: Lifecycle) -> None:
    _ok(lifecycle.runs["second"])
    assert "Changes: none (already up to date)" in lifecycle.runs["second"].stdout
    assert "not seeded" in lifecycle.runs["second"].stdout


def test_destroy_removes_the_stack_its_resources_both_buckets_and_the_outputs(lifecycle: Lifecycle) -> None:
    _ok(lifecycle.runs["destroy"])
    assert lifecycle.destroyed == {"stack": None, "table": False, "pools": [], "site bucket": False,
                                   "code bucket": False}
    assert not lifecycle.outputs_left


def test_a_table_of_the_stacks_name_that_the_stack_did_not_make_stops_the_deploy(aws: OfflineAws,
                                                                                 lifecycle: Lifecycle) -> None:
    """Refused before anything is made, in one line; the table and its item are left as they were. (After the
    lifecycle, which leaves the account without the stack.)"""
    dynamodb = aws.root("dynamodb")
    dynamodb.create_table(TableName="Albums", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "Rank", "AttributeType": "N"}],
                          KeySchema=[{"AttributeName": "Rank", "KeyType": "HASH"}])
    item = {"Rank": {"N": "1"}, "Album": {"S": "Somebody Else's"}}
    dynamodb.put_item(TableName="Albums", Item=item)
    try:
        run = aws.bootstrap("up", aws.work / "stack-aws-foreign")
        assert run.returncode == 1, run.stdout + run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
        assert lines[0].startswith("error: table Albums exist(s) but not in stack albums"), lines[0]
        assert dynamodb.scan(TableName="Albums", ConsistentRead=True)["Items"] == [item]
        assert aws.resources() == {"stack": None, "table": True, "pools": [], "site bucket": False,
                                   "code bucket": False}
    finally:
        dynamodb.delete_table(TableName="Albums")
