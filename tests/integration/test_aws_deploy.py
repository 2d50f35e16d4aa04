"""The AWS code path (`make deploy TARGET=aws`, `make destroy TARGET=aws`, `make restore TARGET=aws`) on an offline
AWS: a MiniStack of this module's own, deployed to by an IAM user that holds only the deployer's two policies (iam/).
What was deployed is checked as a reviewer would on AWS: HTTPS through CloudFront in front of a private bucket,
security headers, CORS for the site's origin only, data that survives mistakes, limits, tags; and a destroy that
asks first, backs the albums up, and a restore that brings them back into a new deploy.

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
import requests
from botocore.exceptions import ClientError

from bootstrap.access import EMULATOR_CREDENTIALS, ROOT
from bootstrap.emulator import Emulator
from tests.support import throwaway_port

pytestmark = pytest.mark.own_stack  # waits on a stack of its own: scheduled first (conftest.py)

POLICIES = [ROOT / "iam" / name for name in ("deployer-policy.json", "deployer-resources-policy.json")]
REGION = "us-east-1"
ACCOUNT = "000000000000"  # MiniStack's account for the root key `test`
SITE_BUCKET = f"testprotest-{ACCOUNT}-{REGION}"
ARTIFACTS_BUCKET = f"albums-artifacts-{ACCOUNT}-{REGION}"
OUTPUT_KEYS = {"Target", "Region", "Account", "EndpointUrl", "UserPoolId", "UserPoolClientId", "RestApiId", "Stage",
               "ApiUrl", "WebsiteUrl", "TableName", "BucketName", "MailboxUrl", "SiteOrigin"}
CONFIRM = f"{ACCOUNT}/{REGION}"


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

    def bootstrap(self, command: str, stack_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("AWS_") and key not in {"BUCKET_NAME", "PASSWORD_AUTH"}}  # no profile, no keys
        env |= {**self.deployer, "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": REGION,
                "AWS_STACK_DIR": str(stack_dir)}
        return subprocess.run([sys.executable, "-m", "bootstrap", command, "--target", "aws", *args], cwd=ROOT, env=env,
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
        for path in POLICIES:
            policy = iam.create_policy(PolicyName=path.stem, PolicyDocument=path.read_text())["Policy"]
            iam.attach_user_policy(UserName="albums-deployer", PolicyArn=policy["Arn"])
        # MiniStack checks RestoreTableFromBackup against `*` (its request names no TableName); AWS checks it on
        # the backup and the new table, which is what the shipped policy grants. Only that one action is added.
        restore_anywhere = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:RestoreTableFromBackup", "Resource": "*"}]}
        iam.put_user_policy(UserName="albums-deployer", PolicyName="ministack-restore-resource",
                            PolicyDocument=json.dumps(restore_anywhere))
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
    refused: dict[str, Any]  # ... after a destroy without CONFIRM
    destroyed: dict[str, Any]  # ... after destroy
    outputs_left: bool
    restored_album: dict[str, Any] | None  # the album added before the destroy, after deploy + restore
    facts: dict[str, Any]  # what was deployed, read back from the account (see deployed_facts)


MARKER = {"Rank": {"N": "654321"}, "Album": {"S": "Added Before The Destroy"}}


@pytest.fixture(scope="module")
def lifecycle(aws: OfflineAws) -> Lifecycle:
    """As the deployer: `make deploy TARGET=aws` twice; `make destroy` without, then with CONFIRM; deploy again and
    `make restore` the backup the destroy took; finally destroy with KEEP_DATA=1."""
    stack_dir = aws.work / "stack-aws"
    runs = {"first": aws.bootstrap("up", stack_dir)}
    outputs = json.loads((stack_dir / "outputs.json").read_text()) if runs["first"].returncode == 0 else {}
    runs["second"] = aws.bootstrap("up", stack_dir)
    deployed, facts = aws.resources(), deployed_facts(aws, outputs)
    aws.root("dynamodb").put_item(TableName="Albums", Item=MARKER)  # what a user added since
    runs["destroy unconfirmed"] = aws.bootstrap("destroy", stack_dir)
    refused = aws.resources()
    runs["destroy"] = aws.bootstrap("destroy", stack_dir, "--confirm", CONFIRM)
    destroyed, outputs_left = aws.resources(), (stack_dir / "outputs.json").exists()
    runs["redeploy"] = aws.bootstrap("up", stack_dir)
    runs["list backups"] = aws.bootstrap("restore", stack_dir)
    backup = next((line.split()[0] for line in runs["list backups"].stdout.splitlines()
                   if line.strip().startswith("Albums-")), "none")
    runs["restore"] = aws.bootstrap("restore", stack_dir, "--backup", backup)
    restored = aws.root("dynamodb").get_item(TableName="Albums", Key={"Rank": MARKER["Rank"]}).get("Item")
    runs["destroy keeping data"] = aws.bootstrap("destroy", stack_dir, "--confirm", CONFIRM, "--keep-data")
    return Lifecycle(runs, outputs, deployed, refused, destroyed, outputs_left, restored, facts)


def deployed_facts(aws: OfflineAws, outputs: dict[str, Any]) -> dict[str, Any]:
    """What a reviewer would look at in the account (MiniStack stores all of it; it does not serve CloudFront)."""
    if not outputs:
        return {}
    cloudfront, dynamodb, s3 = aws.root("cloudfront"), aws.root("dynamodb"), aws.root("s3")
    (summary,) = cloudfront.list_distributions()["DistributionList"]["Items"]
    config = cloudfront.get_distribution_config(Id=summary["Id"])["DistributionConfig"]
    behaviour, (origin,) = config["DefaultCacheBehavior"], config["Origins"]["Items"]
    headers = cloudfront.get_response_headers_policy(Id=behaviour["ResponseHeadersPolicyId"])[
        "ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    access = cloudfront.get_origin_access_control(Id=origin["OriginAccessControlId"])["OriginAccessControl"]
    table = dynamodb.describe_table(TableName="Albums")["Table"]
    pitr = dynamodb.describe_continuous_backups(TableName="Albums")["ContinuousBackupsDescription"]
    function = aws.root("lambda").get_function(FunctionName="albums-create")["Configuration"]
    stage = aws.root("apigateway").get_stage(restApiId=outputs["RestApiId"], stageName="prod")
    preflight = requests.options(f"{aws.endpoint}/_aws/execute-api/{outputs['RestApiId']}/prod/album", timeout=30,
                                 headers={"Origin": "https://attacker.example", "Access-Control-Request-Method": "PUT"})
    return {
        "distribution": summary["Id"], "domain": summary["DomainName"], "root object": config["DefaultRootObject"],
        "viewer protocol": behaviour["ViewerProtocolPolicy"],
        "origin": origin["DomainName"], "signing": access["OriginAccessControlConfig"]["SigningBehavior"],
        "csp": headers["ContentSecurityPolicy"]["ContentSecurityPolicy"],
        "headers": sorted(headers), "hsts": headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"],
        "public access block": s3.get_public_access_block(Bucket=SITE_BUCKET)["PublicAccessBlockConfiguration"],
        "bucket policy": json.loads(s3.get_bucket_policy(Bucket=SITE_BUCKET)["Policy"])["Statement"],
        "site key": s3.head_object(Bucket=SITE_BUCKET, Key="index.html")["ContentType"],
        "cors origin (function)": function["Environment"]["Variables"]["CORS_ALLOW_ORIGIN"],
        "cors origin (preflight)": preflight.headers.get("Access-Control-Allow-Origin"),
        "table protected": table.get("DeletionProtectionEnabled"),
        "point-in-time recovery": pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "pool protected": aws.root("cognito-idp").describe_user_pool(UserPoolId=outputs["UserPoolId"])[
            "UserPool"].get("DeletionProtection"),
        "throttling": {key: (value["throttlingRateLimit"], value["throttlingBurstLimit"])
                       for key, value in stage["methodSettings"].items()},
        "table tags": {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(
            ResourceArn=table["TableArn"])["Tags"]},
        "function tags": aws.root("lambda").list_tags(Resource=function["FunctionArn"])["Tags"],
    }


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
    assert outputs["WebsiteUrl"].startswith("https://") and outputs["WebsiteUrl"].endswith(".cloudfront.net/")
    assert outputs["SiteOrigin"] == outputs["WebsiteUrl"].rstrip("/")
    assert lifecycle.deployed == {"stack": "CREATE_COMPLETE", "table": True, "pools": [outputs["UserPoolId"]],
                                  "site bucket": True, "code bucket": True}


def test_the_site_is_https_through_cloudfront_from_a_private_bucket(lifecycle: Lifecycle) -> None:
    facts = lifecycle.facts
    assert lifecycle.outputs["WebsiteUrl"] == f"https://{facts['domain']}/"
    assert (facts["root object"], facts["viewer protocol"]) == ("index.html", "redirect-to-https")
    assert facts["origin"].startswith(f"{SITE_BUCKET}.s3.") and facts["signing"] == "always"  # origin access control
    assert facts["public access block"] == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                            "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    (statement,) = facts["bucket policy"]  # only this distribution may read, nobody else anything
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"} and statement["Action"] == "s3:GetObject"
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(f":distribution/{facts['distribution']}")
    assert facts["site key"].startswith("text/html")  # the post-deploy step uploaded the site


def test_the_site_sends_security_headers_and_the_api_allows_only_its_origin(lifecycle: Lifecycle) -> None:
    facts = lifecycle.facts
    assert "frame-ancestors 'none'" in facts["csp"] and f"https://{lifecycle.outputs['RestApiId']}." in facts["csp"]
    assert {"StrictTransportSecurity", "ContentTypeOptions", "ReferrerPolicy", "FrameOptions"} <= set(facts["headers"])
    assert facts["hsts"] >= 31_536_000
    site = f"https://{facts['domain']}"
    assert facts["cors origin (function)"] == facts["cors origin (preflight)"] == site  # not "*", not the caller


def test_data_is_protected_and_writes_are_limited(lifecycle: Lifecycle) -> None:
    facts = lifecycle.facts
    assert facts["table protected"] is True and facts["pool protected"] == "ACTIVE"
    assert facts["point-in-time recovery"] == "ENABLED"
    everything = facts["throttling"]["*/*"]
    for method in ("POST", "PUT", "DELETE"):
        assert facts["throttling"][f"/~1album/{method}"] < everything
    for tags in (facts["table tags"], facts["function tags"]):
        assert tags.get("aws:cloudformation:stack-name") == "albums" and tags.get("app") == "albums"


def test_a_second_deploy_changes_nothing(lifecycle: Lifecycle) -> None:
    _ok(lifecycle.runs["second"])
    assert "Changes: none (already up to date)" in lifecycle.runs["second"].stdout
    assert "not seeded" in lifecycle.runs["second"].stdout


def test_a_destroy_without_confirm_says_what_it_would_delete_and_changes_nothing(lifecycle: Lifecycle) -> None:
    run = lifecycle.runs["destroy unconfirmed"]
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "table Albums: 501 albums" in run.stdout and "users" in run.stdout and "stack albums" in run.stdout
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("error: nothing was deleted") and f"CONFIRM={CONFIRM}" in line
    assert lifecycle.refused == lifecycle.deployed


def test_a_confirmed_destroy_backs_up_the_albums_then_removes_everything(lifecycle: Lifecycle) -> None:
    run = lifecycle.runs["destroy"]
    _ok(run)
    assert "backup of the albums: Albums-" in run.stdout
    assert lifecycle.destroyed == {"stack": None, "table": False, "pools": [], "site bucket": False,
                                   "code bucket": False}  # the retained table and pool too
    assert not lifecycle.outputs_left


def test_the_backup_brings_the_albums_back_into_a_new_deploy(lifecycle: Lifecycle) -> None:
    _ok(lifecycle.runs["redeploy"])
    assert "Seeded 500 albums" in lifecycle.runs["redeploy"].stdout  # a new, empty table
    _ok(lifecycle.runs["list backups"])
    _ok(lifecycle.runs["restore"])
    assert "restored 501 albums from Albums-" in lifecycle.runs["restore"].stdout
    assert lifecycle.restored_album == MARKER


def test_keep_data_keeps_the_table_and_the_pool(aws: OfflineAws, lifecycle: Lifecycle) -> None:
    _ok(lifecycle.runs["destroy keeping data"])
    kept = aws.resources()
    try:
        assert kept["stack"] is None and kept["table"] and len(kept["pools"]) == 1
        assert aws.root("dynamodb").get_item(TableName="Albums", Key={"Rank": MARKER["Rank"]}).get("Item") == MARKER
    finally:  # what the next test expects: an account without the stack's data
        aws.root("dynamodb").update_table(TableName="Albums", DeletionProtectionEnabled=False)
        aws.root("dynamodb").delete_table(TableName="Albums")
        for pool in kept["pools"]:
            aws.root("cognito-idp").update_user_pool(UserPoolId=pool, DeletionProtection="INACTIVE")
            aws.root("cognito-idp").delete_user_pool(UserPoolId=pool)


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
