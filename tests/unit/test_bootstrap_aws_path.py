"""The bootstrap's AWS code path (`--target aws`: no endpoint, real AWS names and URLs), run against moto.

On AWS the bootstrap makes the very calls it makes on the emulator; only the endpoint and the AWS-only naming
(bucket suffixed with account and region, execute-api and S3 website URLs, no Cognito endpoint in config.js) differ.
moto intercepts every botocore request in-process, and `_refuse_network` fails the test should any request ever
get past it, so no real AWS account is contacted. Needs moto's Cognito and API Gateway backends (joserfc).

The tests share one deployment and run in file order: the last one destroys it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.httpsession import URLLib3Session
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from albums import domain
from albums.table import CATALOG_FORMAT, DIRECTORY_RANK
from bootstrap import cognito, functions, site, stack
from bootstrap import resources as r
from bootstrap.errors import StackError
from bootstrap.stack import Report
from bootstrap.target import Target, resolve

REGION = "eu-west-1"
BUCKET = f"{r.BUCKET}-{DEFAULT_ACCOUNT_ID}-{REGION}"


@dataclass
class Deployed:
    target: Target
    outputs: dict[str, Any]
    report: Report

    def client(self, service: str) -> Any:
        return self.target.client(service)


def _refuse_network(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("a request got past moto and would have gone to real AWS")


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    stack_dir: Path = tmp_path_factory.mktemp("aws-stack")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):  # no profile, endpoint override or bucket name of the developer's leaks in
            if name.startswith("AWS_") or name in {"BUCKET_NAME", "STACK_DIR"}:
                mp.delenv(name)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_SESSION_TOKEN", "testing")
        mp.setenv("AWS_REGION", REGION)
        mp.setenv("AWS_CONFIG_FILE", str(stack_dir / "no-aws-config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(stack_dir / "no-aws-credentials"))
        mp.setenv("AWS_STACK_DIR", str(stack_dir))
        mp.setattr(URLLib3Session, "send", _refuse_network)
        with mock_aws():
            target = resolve("aws")
            assert target.endpoint is None
            outputs, report = stack.deploy(target)
            yield Deployed(target, outputs, report)


def test_outputs_name_the_aws_resources(aws: Deployed) -> None:
    outputs = aws.outputs
    api_id = outputs["RestApiId"]
    assert outputs["Region"] == REGION
    assert outputs["EndpointUrl"] is None
    assert outputs["UserPoolId"].startswith(f"{REGION}_")
    assert outputs["UserPoolClientId"]
    assert outputs["ApiUrl"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/prod"
    assert outputs["WebsiteUrl"] == f"http://{BUCKET}.s3-website-{REGION}.amazonaws.com/"
    assert outputs["TableName"] == "Albums"
    assert outputs["BucketName"] == BUCKET
    assert outputs["MailboxUrl"] is None
    assert json.loads(aws.target.outputs_file.read_text()) == outputs
    *made, uploaded = aws.report.changes
    assert made == [f"function {f.name}" for f in r.FUNCTIONS] + [f"api {r.REST_API} (new deployment)"]
    objects = aws.client("s3").list_objects_v2(Bucket=BUCKET)["KeyCount"]
    assert uploaded == f"site: {objects} file(s) uploaded"


@pytest.mark.parametrize(("region", "host"), [
    ("eu-west-1", "s3-website-eu-west-1"), ("us-east-1", "s3-website-us-east-1"),  # the oldest regions: dash
    ("eu-central-1", "s3-website.eu-central-1"), ("us-east-2", "s3-website.us-east-2"),  # every later one: dot
])
def test_website_url_follows_the_regions_endpoint_format(region: str, host: str, tmp_path: Path) -> None:
    assert Target("aws", region, None, tmp_path).website_url("b") == f"http://b.{host}.amazonaws.com/"


def test_user_pool_signs_in_by_username_or_email_with_a_public_client(aws: Deployed) -> None:
    cognito = aws.client("cognito-idp")
    pool_id, client_id = aws.outputs["UserPoolId"], aws.outputs["UserPoolClientId"]
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["Name"] == r.USER_POOL
    # The username is the Cognito Username (unique, case-insensitive); the verified e-mail is an alias.
    assert pool["AliasAttributes"] == ["email"] and not pool.get("UsernameAttributes")
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["AutoVerifiedAttributes"] == ["email"]
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert "ClientSecret" not in client
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]


def test_table_is_keyed_by_rank(aws: Deployed) -> None:
    description = aws.client("dynamodb").describe_table(TableName="Albums")["Table"]
    assert description["KeySchema"] == [{"AttributeName": "Rank", "KeyType": "HASH"}]
    assert description.get("GlobalSecondaryIndexes", []) == []  # listings read the catalog, not an index


def test_four_functions_each_with_its_least_privilege_role(aws: Deployed) -> None:
    lam, iam = aws.client("lambda"), aws.client("iam")
    table_arn = aws.client("dynamodb").describe_table(TableName="Albums")["Table"]["TableArn"]
    assert sorted(f["FunctionName"] for f in lam.list_functions()["Functions"]) == sorted(
        f.name for f in r.FUNCTIONS)
    for function in r.FUNCTIONS:
        config = lam.get_function_configuration(FunctionName=function.name)
        role = iam.get_role(RoleName=f"{function.name}-role")["Role"]
        assert (config["Runtime"], config["Handler"], config["Role"]) == ("python3.12", function.handler, role["Arn"])
        assert config["Environment"]["Variables"]["ALBUMS_TABLE"] == "Albums"
        assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == ["albums-table-access"]
        policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="albums-table-access")["PolicyDocument"]
        assert policy == functions.role_policy(function, table_arn)
        assert sorted(policy["Statement"][0]["Action"]) == sorted(function.table_actions)
        invoke = json.loads(lam.get_policy(FunctionName=function.name)["Policy"])["Statement"]
        assert [s["Principal"] for s in invoke] == [{"Service": "apigateway.amazonaws.com"}]


def test_api_protects_every_method_with_the_user_pool(aws: Deployed) -> None:
    apigw, api_id = aws.client("apigateway"), aws.outputs["RestApiId"]
    pool_arn = aws.client("cognito-idp").describe_user_pool(UserPoolId=aws.outputs["UserPoolId"])["UserPool"]["Arn"]
    (authorizer,) = apigw.get_authorizers(restApiId=api_id)["items"]
    assert (authorizer["type"], authorizer["providerARNs"]) == ("COGNITO_USER_POOLS", [pool_arn])
    (album,) = [res for res in apigw.get_resources(restApiId=api_id)["items"] if res["path"] == "/album"]
    assert sorted(album["resourceMethods"]) == ["DELETE", "GET", "OPTIONS", "POST", "PUT"]
    for function in r.FUNCTIONS:
        method = apigw.get_method(restApiId=api_id, resourceId=album["id"], httpMethod=function.method)
        assert (method["authorizationType"], method["authorizerId"]) == ("COGNITO_USER_POOLS", authorizer["id"])
        assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert apigw.get_stage(restApiId=api_id, stageName="prod")["stageName"] == "prod"


def test_bucket_is_a_website_readable_but_not_writable_by_everyone(aws: Deployed) -> None:
    s3 = aws.client("s3")
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy == site.public_read_policy(BUCKET)
    assert [(s["Effect"], s["Principal"], s["Action"]) for s in policy["Statement"]] == [("Allow", "*", "s3:GetObject")]
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert (block["BlockPublicAcls"], block["BlockPublicPolicy"]) == (True, False)
    assert s3.get_bucket_website(Bucket=BUCKET)["IndexDocument"] == {"Suffix": "index.html"}


def test_config_js_points_the_site_at_the_real_cognito(aws: Deployed) -> None:
    config_js = aws.client("s3").get_object(Bucket=BUCKET, Key="config.js")
    assert config_js["ContentType"].startswith("text/javascript")
    text = config_js["Body"].read().decode()
    config = json.loads(text[text.index("Object.freeze(") + len("Object.freeze("):text.rindex(");")])
    assert config["cognitoEndpoint"] is None
    assert config["region"] == REGION
    assert config["userPoolId"] == aws.outputs["UserPoolId"]
    assert config["userPoolClientId"] == aws.outputs["UserPoolClientId"]
    assert config["apiUrl"] == aws.outputs["ApiUrl"]
    assert config["mailboxUrl"] is None
    # The forms' limits come from the stack: the pool's password policy as Cognito reports it, the username rule.
    pool = aws.client("cognito-idp").describe_user_pool(UserPoolId=aws.outputs["UserPoolId"])["UserPool"]
    assert config["passwordPolicy"] == pool["Policies"]["PasswordPolicy"]
    assert config["usernameRule"] == r.USERNAME_RULE
    # ...and the album and listing rules the functions apply: the page restates none of them
    assert config["albumSchema"]["properties"]["Album"] == domain.TEXT.schema()
    assert list(config["albumChangesSchema"]["properties"]) == [*domain.CHANGEABLE_FIELDS, "version"]
    assert config["listing"] == {"pageLimitDefault": domain.PAGE_LIMIT_DEFAULT, "pageLimitMax": domain.PAGE_LIMIT_MAX,
                                 "sortFields": list(domain.SORT_FIELDS), "sortOrders": list(domain.SORT_ORDERS),
                                 "searchMaxLength": domain.SEARCH_MAX_LENGTH}
    index = aws.client("s3").get_object(Bucket=BUCKET, Key="index.html")["Body"].read().decode()
    assert f"https://cognito-idp.{REGION}.amazonaws.com" in index  # the CSP lets the page call the real Cognito


def test_second_deploy_changes_nothing(aws: Deployed) -> None:
    s3_calls: list[str] = []
    def record(event_name: str, **_: Any) -> None:
        s3_calls.append(event_name)

    events = aws.client("s3").meta.events  # the very client the bootstrap uses (one per service per target)
    events.register("before-call.s3", record)
    try:
        outputs, report = stack.deploy(aws.target)
    finally:
        events.unregister("before-call.s3", record)
    assert report.changes == []
    assert outputs == aws.outputs
    # Nothing to relax or put again, so nothing to wait for (the order on a new bucket is checked by the scenarios
    # in test_bootstrap_eventual_consistency.py, whose AWS double refuses a public policy as AWS does).
    calls = {name.rsplit(".", 1)[-1] for name in s3_calls}
    assert "ListObjectsV2" in calls  # the hook saw the deploy's calls
    assert not calls & {"PutPublicAccessBlock", "PutBucketPolicy", "PutObject"}


def test_seed_fills_only_an_empty_table(aws: Deployed) -> None:
    assert stack.seed(aws.target) == 500
    assert stack.seed(aws.target) == 0
    directory = aws.client("dynamodb").get_item(TableName="Albums", Key={"Rank": {"N": str(DIRECTORY_RANK)}})["Item"]
    assert directory["format"] == {"N": str(CATALOG_FORMAT)}  # the seed wrote the catalog


def test_destroy_removes_everything(aws: Deployed) -> None:  # last: the other tests share this deployment
    stack.destroy(aws.target)
    assert aws.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"] == []
    assert aws.client("dynamodb").list_tables()["TableNames"] == []
    assert aws.client("lambda").list_functions()["Functions"] == []
    assert aws.client("iam").list_roles()["Roles"] == []
    assert aws.client("apigateway").get_rest_apis()["items"] == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("logs").describe_log_groups()["logGroups"] == []  # they would never expire
    assert not aws.target.outputs_file.exists()
    with pytest.raises(StackError, match="no record of a stack"):  # the record is gone with the stack
        stack.destroy(aws.target)


def test_a_pool_from_before_usernames_stops_the_deploy_with_one_line(aws: Deployed) -> None:
    # GIVEN (after destroy) a pool of the old shape: sign-in by e-mail only, no usernames
    aws.client("cognito-idp").create_user_pool(PoolName=r.USER_POOL, UsernameAttributes=["email"])
    # WHEN the bootstrap reconciles the pool, THEN it refuses to go on (sign-in attributes are create-only, and
    # replacing the pool would delete every user) and says what to do
    with pytest.raises(StackError, match=r"signs in by e-mail only.*make reset"):
        cognito.ensure_user_pool(aws.target)
