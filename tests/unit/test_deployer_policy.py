"""iam/deployer-policy.json grants what a CloudFormation deploy of template.yaml needs with the deployer's own
credentials (no service role), and no more.

What CloudFormation does for each resource type comes from AWS's resource provider schemas (cfn-lint bundles them):
each type's create, read, update and delete handlers list the IAM actions they may call, and CloudFormation calls them
with the caller's credentials. Not the `list` handlers: stack operations do not list resources (Cloud Control's
ListResources and the IaC generator do). Left out are only the actions behind properties this template does not set
(NOT_USED, each row checked against the template and the schema). Added are the bootstrap's own calls
(BOOTSTRAP_CALLS). The policy must grant each on this stack's resources and nothing else; a wildcard only for reads
(`s3:Get*` on the site's bucket), which keeps it within IAM's quota for one managed policy.

MiniStack checks only the bootstrap's own calls against the policy, not what its CloudFormation engine does for the
caller: tests/integration/test_aws_deploy.py deploys with a user holding only this policy.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bootstrap import template as tpl

# Two managed policies, attached together: what the deploy itself does (the stack, the code, the site's files, the
# data: seed, backup, restore) and what CloudFormation does for the template's resources. One would not fit IAM's
# quota for a managed policy (6,144 characters).
POLICY_FILES = [Path(__file__).resolve().parents[2] / "iam" / name
                for name in ("deployer-policy.json", "deployer-resources-policy.json")]
SCHEMAS = Path(importlib.util.find_spec("cfnlint").origin or "").parent / "data" / "schemas"  # not imported
HANDLERS = ("create", "read", "update", "delete")

# Actions a type's handlers call only for a property this template does not set: (type, properties, actions). The
# actions are needed again as soon as any of the properties is set on a resource of that type.
NOT_USED: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("AWS::ApiGateway::Authorizer", ("AuthorizerCredentials",), ("iam:PassRole",)),
    ("AWS::ApiGateway::Method", ("Integration.Credentials",), ("iam:PassRole",)),
    ("AWS::ApiGateway::RestApi", ("Body", "BodyS3Location"), ("iam:PassRole", "s3:GetObject")),
    ("AWS::ApiGateway::RestApi", ("Policy",), ("apigateway:UpdateRestApiPolicy",)),
    ("AWS::Cognito::UserPool", ("SmsConfiguration", "EmailConfiguration"),
     ("iam:PassRole", "iam:CreateServiceLinkedRole")),
    # the custom sender triggers' key (the template's one trigger is PostConfirmation)
    ("AWS::Cognito::UserPool", ("LambdaConfig.KMSKeyID", "LambdaConfig.CustomEmailSender",
                                "LambdaConfig.CustomSMSSender"), ("kms:*",)),
    ("AWS::Cognito::UserPoolClient", ("AnalyticsConfiguration",),
     ("iam:PassRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:CreateServiceLinkedRole")),
    ("AWS::DynamoDB::Table", ("SSESpecification",), ("kms:*",)),
    ("AWS::DynamoDB::Table", ("KinesisStreamSpecification",), ("kinesis:*",)),
    ("AWS::DynamoDB::Table", ("ContributorInsightsSpecification", "KinesisStreamSpecification"),
     ("iam:CreateServiceLinkedRole",)),
    ("AWS::DynamoDB::Table", ("ImportSourceSpecification",),
     ("dynamodb:ImportTable", "dynamodb:DescribeImport", "s3:*", "logs:*")),
    # Managed policies and permissions boundaries on the functions' roles: the means of a privilege escalation.
    ("AWS::IAM::Role", ("ManagedPolicyArns",), ("iam:AttachRolePolicy", "iam:DetachRolePolicy")),
    ("AWS::IAM::Role", ("PermissionsBoundary",),
     ("iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary")),
    ("AWS::CloudFront::Distribution", ("DistributionConfig.ConnectionMode",),  # multi-tenant distributions
     ("cloudfront:CreateConnectionGroup",)),
    ("AWS::CloudFront::Distribution", ("DistributionConfig.Staging",),  # continuous deployment's staging copy
     ("cloudfront:UpdateDistributionWithStagingConfig",)),
    ("AWS::Lambda::Function", ("VpcConfig",), ("ec2:*",)),
    ("AWS::Lambda::Function", ("FileSystemConfigs",), ("elasticfilesystem:*", "s3files:*")),
    ("AWS::Lambda::Function", ("KmsKeyArn",), ("kms:*",)),
    ("AWS::Lambda::Function", ("Layers",), ("lambda:GetLayerVersion",)),
    ("AWS::Lambda::Function", ("CodeSigningConfigArn",), ("lambda:GetCodeSigningConfig",)),
    ("AWS::Lambda::Function", ("CapacityProviderConfig",), ("lambda:PassCapacityProvider",)),
    ("AWS::Logs::LogGroup", ("DataProtectionPolicy",),  # its findings delivered to Firehose or S3
     ("logs:CreateLogDelivery", "firehose:*", "s3:*")),
    ("AWS::Logs::LogGroup", ("ResourcePolicyDocument",), ("logs:PutResourcePolicy", "logs:DeleteResourcePolicy")),
    ("AWS::S3::Bucket", ("ReplicationConfiguration", "MetadataConfiguration", "MetadataTableConfiguration"),
     ("iam:PassRole",)),
    ("AWS::S3::Bucket", ("MetadataConfiguration", "MetadataTableConfiguration"), ("s3tables:*",)),
]

ACCOUNT, REGION = "123456789012", "us-east-1"
SITE_BUCKET = f"testprotest-{ACCOUNT}-{REGION}"
ARTIFACTS = f"albums-artifacts-{ACCOUNT}-{REGION}"
# The bootstrap's own calls (bootstrap/stack.py, cloudformation.py, site.py; the seed in albums.repository), as the
# IAM action each needs and the resource it is made on. sts:GetCallerIdentity needs no permission.
STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/albums/0b5e6a10-0000-0000-0000-000000000000"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Albums"
POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbCdEf123"
BOOTSTRAP_CALLS: list[tuple[str, str]] = [
    *((f"cloudformation:{op}", STACK) for op in (
        "DescribeStacks", "ListStackResources", "CreateChangeSet", "DescribeChangeSet", "DeleteChangeSet",
        "ExecuteChangeSet", "DescribeStackEvents", "DeleteStack", "TagResource",  # the change set's stack tags
        # not the bootstrap's: `sam deploy` and `aws cloudformation deploy` call it for an existing stack
        "GetTemplateSummary")),
    # the template's Transform (Fn::ForEach): a change set of it is also made on the transform
    ("cloudformation:CreateChangeSet", f"arn:aws:cloudformation:{REGION}:aws:transform/LanguageExtensions"),
    ("dynamodb:DescribeTable", TABLE),  # is there a table of the stack's name that the stack did not make?
    ("cognito-idp:ListUserPools", "*"),  # ... or a pool of its name
    ("cognito-idp:DescribeUserPool", POOL),  # its password policy, for the site's config.js
    ("s3:ListBucket", f"arn:aws:s3:::{SITE_BUCKET}"),  # HeadBucket, ListObjectsV2
    ("s3:PutObject", f"arn:aws:s3:::{SITE_BUCKET}/index.html"),
    ("s3:DeleteObject", f"arn:aws:s3:::{SITE_BUCKET}/index.html"),  # DeleteObjects: stale files, destroy
    ("s3:ListBucket", f"arn:aws:s3:::{ARTIFACTS}"),
    ("s3:CreateBucket", f"arn:aws:s3:::{ARTIFACTS}"),
    ("s3:PutBucketPublicAccessBlock", f"arn:aws:s3:::{ARTIFACTS}"),
    ("s3:DeleteBucket", f"arn:aws:s3:::{ARTIFACTS}"),
    ("s3:GetObject", f"arn:aws:s3:::{ARTIFACTS}/albums-function-0123abcd.zip"),  # HeadObject (and Lambda's read)
    ("s3:PutObject", f"arn:aws:s3:::{ARTIFACTS}/albums-function-0123abcd.zip"),
    ("s3:DeleteObject", f"arn:aws:s3:::{ARTIFACTS}/albums-function-0123abcd.zip"),
    # seed: an empty table gets the albums and their catalog; an old one its catalog rebuilt
    *((f"dynamodb:{op}", TABLE) for op in ("Scan", "GetItem", "PutItem", "UpdateItem", "BatchWriteItem")),
    # destroy (bootstrap/destroy.py): count, back up, then delete the retained table and pool (protection off first)
    ("dynamodb:CreateBackup", TABLE), ("dynamodb:UpdateTable", TABLE), ("dynamodb:DeleteTable", TABLE),
    ("cognito-idp:UpdateUserPool", POOL), ("cognito-idp:DeleteUserPool", POOL),
    # `make editor TARGET=aws` (bootstrap/editor.py): find the user, read the client's token lifetime, (un)grant
    *((f"cognito-idp:{op}", POOL) for op in (
        "ListUsers", "AdminGetUser", "AdminListGroupsForUser", "DescribeUserPoolClient", "AdminAddUserToGroup",
        "AdminRemoveUserFromGroup")),
    # `make logs TARGET=aws` (bootstrap/logs.py)
    ("logs:FilterLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/albums-get"),
    # restore: list the backups, restore one into a scratch table, copy its items across, delete the scratch table
    ("dynamodb:ListBackups", "*"), ("dynamodb:RestoreTableFromBackup", f"{TABLE}/backup/01796541518073-3acd916d"),
    *((f"dynamodb:{op}", f"{TABLE}-restore-1796541518") for op in (
        "RestoreTableFromBackup", "DescribeTable", "Scan", "DeleteTable",
        # RestoreTableFromBackup needs these on the table it makes (DynamoDB's documentation)
        "PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "BatchWriteItem")),
]
# Where CloudFormation's handlers act, by service: this stack's resources.
STACK_RESOURCES = {
    "apigateway": ["arn:aws:apigateway:us-east-1::/restapis", "arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages",
                   f"arn:aws:apigateway:us-east-1::/tags/arn%3Aaws%3Aapigateway%3A{REGION}%3A%3A%2Frestapis%2Fa1b2c3"],
    "cognito-idp": [POOL],
    "dynamodb": [TABLE],
    "iam": [f"arn:aws:iam::{ACCOUNT}:role/albums-get-role"],
    "lambda": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:albums-get"],
    "logs": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/albums-get",
             f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/albums-get:*"],
    "s3": [f"arn:aws:s3:::{SITE_BUCKET}", f"arn:aws:s3:::{SITE_BUCKET}/index.html",
           f"arn:aws:s3:::{ARTIFACTS}/albums-function-0123abcd.zip"],
    # CloudFront's ids are made by CloudFront: its resources are scoped by kind (and the account), not by name.
    "cloudfront": [f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2QWRUHAPOMQZL",
                   f"arn:aws:cloudfront::{ACCOUNT}:origin-access-control/E3ABCDEF123456",
                   f"arn:aws:cloudfront::{ACCOUNT}:response-headers-policy/5cc3b908-e619-4b99-88e5-2cf7f45965bd"],
}
# The only actions on any resource: they take none (or, for the log groups' read handler, an account-wide one).
ON_ANY_RESOURCE = {"cognito-idp:CreateUserPool", "cognito-idp:ListUserPools", "logs:DescribeResourcePolicies",
                   "dynamodb:ListBackups"}

# The one form of wildcard action allowed: reads (no `*`, `iam:*`, `s3:*`, `s3:Put*`).
READ_ONLY = re.compile(r"[a-z0-9-]+:(Get|List|Describe)\*")


@cache
def schema(type_name: str) -> dict[str, Any]:
    hashes = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    loaded: dict[str, Any] = json.loads((SCHEMAS / "resources" / f"{hashes[type_name]}.json").read_text())
    return loaded


def template_types() -> set[str]:
    return {res["Type"] for res in tpl.expanded(tpl.load())["Resources"].values()}


def handler_actions(type_name: str) -> set[str]:
    handlers = schema(type_name)["handlers"]
    return {action for name in HANDLERS for action in handlers.get(name, {}).get("permissions", [])}


def not_used(type_name: str) -> list[str]:
    return [action for row_type, _, actions in NOT_USED if row_type == type_name for action in actions]


def cloudformation_actions() -> set[str]:
    """What CloudFormation's handlers may call for this template's resources, with the caller's credentials."""
    return {action for type_name in template_types() for action in handler_actions(type_name)
            if not any(fnmatch.fnmatchcase(action, pattern) for pattern in not_used(type_name))}


@cache
def statements() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in POLICY_FILES:
        policy = json.loads(path.read_text())
        assert policy["Version"] == "2012-10-17"
        found += policy["Statement"]
    return found


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def allows(action: str, resource: str) -> bool:
    return any(any(fnmatch.fnmatchcase(action, granted) for granted in _as_list(s["Action"]))
               and any(fnmatch.fnmatchcase(resource, where) for where in _as_list(s["Resource"]))
               for s in statements())


def granted_actions() -> set[str]:
    return {action for s in statements() for action in _as_list(s["Action"])}


def test_what_cloudformation_does_for_the_template_is_allowed_on_the_stacks_resources() -> None:
    refused = [action for action in sorted(cloudformation_actions())
               if not any(allows(action, resource) for resource in STACK_RESOURCES[action.split(":", 1)[0]])]
    assert not refused


def test_what_the_bootstrap_calls_is_allowed_on_its_resources() -> None:
    refused = [(action, resource) for action, resource in BOOTSTRAP_CALLS if not allows(action, resource)]
    assert not refused


def test_nothing_else_is_granted() -> None:
    """Each granted action is needed; a wildcard only as a read-only prefix (`s3:Get*`) standing for needed ones."""
    needed = cloudformation_actions() | {action for action, _ in BOOTSTRAP_CALLS}
    for granted in granted_actions():
        if "*" in granted:
            assert READ_ONLY.fullmatch(granted), granted
            assert any(fnmatch.fnmatchcase(action, granted) for action in needed), granted
        else:
            assert granted in needed, granted


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda path: path.name)
def test_each_policy_fits_in_one_managed_policy(path: Path) -> None:
    """IAM's quota for a managed policy: 6,144 characters, whitespace not counted."""
    assert len(json.dumps(json.loads(path.read_text()), separators=(",", ":"))) <= 6144


def test_every_grant_is_explicit_and_scoped_to_the_stack() -> None:
    for s in statements():
        assert s["Effect"] == "Allow" and set(s) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, s
        assert all("*" not in action or READ_ONLY.fullmatch(action) for action in _as_list(s["Action"])), s
        if "*" in _as_list(s["Resource"]):
            assert set(_as_list(s["Action"])) <= ON_ANY_RESOURCE, s
        for action in _as_list(s["Action"]):
            if action.startswith("iam:"):
                assert _as_list(s["Resource"]) == ["arn:aws:iam::*:role/albums-*-role"], s
    assert not allows("dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:1:table/Other")
    assert not allows("lambda:UpdateFunctionCode", "arn:aws:lambda:us-east-1:1:function:other")
    assert not allows("s3:DeleteBucket", "arn:aws:s3:::some-other-bucket")
    assert not allows("cloudformation:DeleteStack", "arn:aws:cloudformation:us-east-1:1:stack/other/1")


def test_roles_are_passed_only_to_lambda() -> None:
    (pass_role,) = [s for s in statements() if "iam:PassRole" in _as_list(s["Action"])]
    assert _as_list(pass_role["Action"]) == ["iam:PassRole"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


@pytest.mark.parametrize("row", NOT_USED, ids=lambda row: f"{row[0]}-{'/'.join(row[1])}")
def test_left_out_actions_serve_only_properties_the_template_does_not_set(
        row: tuple[str, tuple[str, ...], tuple[str, ...]]) -> None:
    type_name, properties, actions = row
    for prop in properties:
        top, *nested = prop.split(".")
        assert top in schema(type_name)["properties"], f"{type_name} has no property {top}"
        for res in tpl.resources(tpl.load(), type_name).values():
            value: Any = res.get("Properties", {})
            for part in (top, *nested):
                value = value.get(part) if isinstance(value, dict) else None
            assert value is None, f"{type_name} sets {prop}: grant {actions}"
    for pattern in actions:  # each row still matches what the schema lists (no stale rows)
        assert any(fnmatch.fnmatchcase(action, pattern) for action in handler_actions(type_name)), pattern
