"""iam/deployer-policy.json grants exactly the IAM actions the bootstrap's calls need: derived from the calls the AWS
double records over a deploy, a re-deploy with changes, recreated parts, a seed and a destroy, so it cannot drift."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from pathlib import Path

import botocore.session
import pytest

from albums import table
from bootstrap import functions, stack
from bootstrap import resources as r

from .aws_double import with_an_index
from .test_bootstrap_eventual_consistency import World, aws_env, world  # noqa: F401 -- fixtures

POLICY_FILE = Path(__file__).resolve().parents[2] / "iam" / "deployer-policy.json"

# Where the IAM action is not "<service>:<Operation>" (Service Authorization Reference).
S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket", "DeleteObjects": "s3:DeleteObject",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock", "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}
PASSES_A_ROLE = {("lambda", "CreateFunction"), ("lambda", "UpdateFunctionConfiguration")}  # + iam:PassRole
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}


def iam_actions(calls: set[tuple[str, str]]) -> set[str]:
    actions: set[str] = set()
    for service, operation in calls - NEEDS_NO_PERMISSION:
        if service == "apigateway":  # API Gateway's control plane is authorised by HTTP verb
            model = botocore.session.get_session().get_service_model("apigateway").operation_model(operation)
            actions.add(f"apigateway:{model.http['method']}")
        elif service == "s3":
            actions.add(S3_ACTIONS.get(operation, f"s3:{operation}"))
        else:
            actions.add(f"{service}:{operation}")
        if (service, operation) in PASSES_A_ROLE:
            actions.add("iam:PassRole")
    return actions


def policy_statements() -> list[dict]:
    return json.loads(POLICY_FILE.read_text())["Statement"]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_policy_grants_exactly_what_the_bootstrap_calls(world: Callable[..., World],  # noqa: F811
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    old_table = table.TABLE_DEFINITION
    monkeypatch.setattr(table, "TABLE_DEFINITION", with_an_index(old_table))
    w.double.client("dynamodb").create_table(TableName=r.TABLE, **old_table)  # the index gets added
    first, _ = w.deploy()
    stack.seed(w.target)
    w.double.client("cognito-idp").delete_user_pool(UserPoolId=first["UserPoolId"])  # the authorizer is patched
    second, _ = w.deploy()
    w.double.client("cognito-idp").update_user_pool_client(  # the app client is reconciled
        UserPoolId=second["UserPoolId"], ClientId=second["UserPoolClientId"], ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"])
    w.double.client("apigateway").delete_rest_api(restApiId=second["RestApiId"])  # the permissions are replaced
    monkeypatch.setattr(functions, "build_zip", lambda _dir: b"new code")  # the functions are updated
    monkeypatch.setattr(r, "LAMBDA_MEMORY", r.LAMBDA_MEMORY * 2)
    w.deploy()
    stack.destroy(w.target)
    w.deploy()  # from empty: the table is created
    granted = {action for s in policy_statements() for action in _as_list(s["Action"])}
    assert granted == iam_actions(set(w.double.calls))


def test_policy_is_scoped_to_the_stacks_own_resources() -> None:
    resources = {action: _as_list(s["Resource"]) for s in policy_statements() for action in _as_list(s["Action"])}
    assert resources["dynamodb:CreateTable"] == [f"arn:aws:dynamodb:*:*:table/{r.TABLE}"]
    for function in r.FUNCTIONS:
        assert fnmatch.fnmatch(f"arn:aws:lambda:eu-west-1:1:function:{function.name}",
                               resources["lambda:CreateFunction"][0])
        assert fnmatch.fnmatch(f"arn:aws:iam::1:role/{function.name}-role", resources["iam:PassRole"][0])
        assert fnmatch.fnmatch(f"arn:aws:logs:eu-west-1:1:log-group:{functions.log_group(function)}",
                               resources["logs:CreateLogGroup"][0])
    assert fnmatch.fnmatch(f"arn:aws:s3:::{r.BUCKET}-1-eu-west-1", resources["s3:PutBucketPolicy"][0])
    only_star = {action for action, where in resources.items() if where == ["*"]}
    assert only_star == {"cognito-idp:ListUserPools", "cognito-idp:CreateUserPool"}  # they take no resource
    (pass_role,) = [s for s in policy_statements() if s["Action"] == "iam:PassRole"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
