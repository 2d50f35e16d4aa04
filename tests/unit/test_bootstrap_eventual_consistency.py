"""The bootstrap against an eventually-consistent AWS (moto + tests/unit/aws_double.py): first deploys, re-deploys,
interrupted deploys, destroy-then-deploy, recreated parts and a missing region, each ending in a stack that works.

Every scenario asserts the same end state (`assert_stack_works`), read straight from moto, not from the bootstrap.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.httpsession import URLLib3Session
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from albums import table
from bootstrap import api, functions, site, stack
from bootstrap import resources as r
from bootstrap.__main__ import main
from bootstrap.errors import StackError
from bootstrap.target import Target, password_auth_flows, resolve

from .aws_double import AwsDouble, Clock, Interrupted, forget_region, with_an_index

REGION = "eu-west-1"
_ZIP: dict[str, bytes] = {}
_build_zip = functions.build_zip


@dataclass
class World:
    target: Target
    double: AwsDouble
    clock: Clock

    def deploy(self) -> tuple[dict[str, Any], stack.Report]:
        return stack.deploy(self.target)


def _refuse_network(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("a request got past moto and would have gone to real AWS")


def _cached_zip(build_dir: Path) -> bytes:  # the same bytes as a real build, built once for the whole module
    if "zip" not in _ZIP:
        _ZIP["zip"] = _build_zip(build_dir)
    return _ZIP["zip"]


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Credentials for moto only, a region, our own state dir, no network, and virtual time."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name in {"BUCKET_NAME", "STACK_DIR"}:
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_STACK_DIR", str(tmp_path / "stack-aws"))
    monkeypatch.setattr(URLLib3Session, "send", _refuse_network)
    monkeypatch.setattr(functions, "build_zip", _cached_zip)
    clock = Clock()
    monkeypatch.setattr(time, "sleep", clock.sleep)
    return clock


def new_world(clock: Clock, **behaviour: Any) -> World:
    forget_region(REGION)
    target = resolve("aws")
    return World(target, AwsDouble(target.session, clock, **behaviour), clock)


@pytest.fixture
def world(aws_env: Clock) -> Iterator[Callable[..., World]]:
    with mock_aws():
        yield lambda **behaviour: new_world(aws_env, **behaviour)


def assert_stack_works(w: World) -> dict[str, Any]:
    """Everything a user needs, as AWS (moto) holds it, consistent with the outputs file."""
    outputs = json.loads(w.target.outputs_file.read_text())
    client = w.double.client
    assert (outputs["Region"], outputs["Account"]) == (REGION, DEFAULT_ACCOUNT_ID)
    pool_arn = client("cognito-idp").describe_user_pool(UserPoolId=outputs["UserPoolId"])["UserPool"]["Arn"]
    assert len(client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]) == 1
    apigw, api_id = client("apigateway"), outputs["RestApiId"]
    assert [a["id"] for a in apigw.get_rest_apis()["items"]] == [api_id]
    assert [a["providerARNs"] for a in apigw.get_authorizers(restApiId=api_id)["items"]] == [[pool_arn]]
    (album,) = [res for res in apigw.get_resources(restApiId=api_id)["items"] if res["path"] == "/album"]
    for function in r.FUNCTIONS:
        method = apigw.get_method(restApiId=api_id, resourceId=album["id"], httpMethod=function.method)
        assert method["methodIntegration"]["type"] == "AWS_PROXY"
    options = apigw.get_method(restApiId=api_id, resourceId=album["id"], httpMethod="OPTIONS")
    assert "200" in options["methodIntegration"]["integrationResponses"]
    assert apigw.get_stage(restApiId=api_id, stageName="prod")
    source_arn = api.execute_arn(w.target, DEFAULT_ACCOUNT_ID, api_id)
    lam, logs = client("lambda"), client("logs")
    for function in r.FUNCTIONS:
        assert lam.get_function_configuration(FunctionName=function.name)["Role"].endswith(f"/{function.name}-role")
        statements = json.loads(lam.get_policy(FunctionName=function.name)["Policy"])["Statement"]
        assert [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in statements] == [source_arn]
        (group,) = logs.describe_log_groups(logGroupNamePrefix=functions.log_group(function))["logGroups"]
        assert group["retentionInDays"] == functions.LOG_RETENTION_DAYS
    description = w.target.client("dynamodb").describe_table(TableName=r.TABLE)["Table"]  # through the double
    indexes = description.get("GlobalSecondaryIndexes", [])
    assert [description["TableStatus"]] + [i["IndexStatus"] for i in indexes] == ["ACTIVE"] * (1 + len(
        table.TABLE_DEFINITION.get("GlobalSecondaryIndexes", [])))
    bucket = outputs["BucketName"]
    assert json.loads(client("s3").get_bucket_policy(Bucket=bucket)["Policy"]) == site.public_read_policy(bucket)
    assert client("s3").head_object(Bucket=bucket, Key="config.js")
    return outputs


def test_deploy_from_empty_waits_out_every_transient_state(world: Callable[..., World]) -> None:
    w = world()
    outputs, report = w.deploy()
    assert assert_stack_works(w) == outputs
    assert stack.seed(w.target) == 500
    # The first role was not assumable for 45 s, the bucket refused its policy for 20 s, and API Gateway throttled
    # requests: the deploy waited each out (in virtual time) rather than failing.
    assert w.clock.now >= w.double.role_delay
    assert w.double.throttled > 5
    assert len(report.changes) == len(r.FUNCTIONS) + 2


def test_second_deploy_makes_no_change_at_all(world: Callable[..., World]) -> None:
    w = world()
    outputs, _ = w.deploy()
    mutations = w.double.mutations
    again, report = w.deploy()
    assert (again, report.changes) == (outputs, [])
    assert w.double.mutations == mutations  # not one write: nothing to propagate, nothing to wait for
    assert_stack_works(w)


def test_deploy_interrupted_before_each_kind_of_write_then_rerun(world: Callable[..., World]) -> None:
    """Each run dies just before a kind of write it has not died at yet (create role, create function, put the
    OPTIONS integration, ...); the next run takes over from what the last one left, until one completes."""
    w = world(interrupt_each_kind_of_write=True)
    runs = 0
    while True:
        runs += 1
        try:
            w.deploy()
            break
        except Interrupted:
            continue
    kinds = {kind[:2] for kind in w.double.interrupted}
    assert {("iam", "CreateRole"), ("lambda", "CreateFunction"), ("lambda", "AddPermission"),
            ("apigateway", "PutIntegrationResponse"), ("s3", "PutBucketPolicy"), ("dynamodb", "CreateTable")} <= kinds
    assert ("apigateway", "PutIntegration", "OPTIONS") in w.double.interrupted  # the half-made preflight
    assert runs == len(w.double.interrupted) + 1 > 30
    assert_stack_works(w)
    w.double.interrupt_each_kind_of_write = False
    assert stack.seed(w.target) == 500


def test_destroy_then_deploy_at_once(world: Callable[..., World]) -> None:
    w = world()
    w.deploy()
    assert stack.seed(w.target) == 500
    stack.destroy(w.target)
    assert not w.target.outputs_file.exists()
    assert w.double.client("dynamodb").list_tables()["TableNames"] == []
    w.deploy()  # right away: the table must not be found DELETING and reused
    assert stack.seed(w.target) == 500
    assert_stack_works(w)


def test_pool_recreated_while_the_api_survives(world: Callable[..., World]) -> None:
    w = world()
    first, _ = w.deploy()
    w.double.client("cognito-idp").delete_user_pool(UserPoolId=first["UserPoolId"])
    second, report = w.deploy()
    assert second["UserPoolId"] != first["UserPoolId"]
    assert second["RestApiId"] == first["RestApiId"]
    assert f"api {r.REST_API} (new deployment)" in report.changes
    assert_stack_works(w)  # the authorizer names the new pool only


def test_api_recreated_while_the_functions_survive(world: Callable[..., World]) -> None:
    w = world()
    first, _ = w.deploy()
    w.double.client("apigateway").delete_rest_api(restApiId=first["RestApiId"])
    second, _ = w.deploy()
    assert second["RestApiId"] != first["RestApiId"]
    assert_stack_works(w)  # each function lets the new API, and only it, invoke it


def test_code_and_configuration_change_while_the_function_is_busy(world: Callable[..., World],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    w.deploy()
    monkeypatch.setattr(functions, "build_zip", lambda _dir: _ZIP["zip"] + b"\0")  # new code ...
    monkeypatch.setattr(r, "LAMBDA_MEMORY", r.LAMBDA_MEMORY * 2)  # ... and new configuration
    _, report = w.deploy()  # the configuration update must wait until the code update is no longer InProgress
    assert report.changes == [f"function {f.name}" for f in r.FUNCTIONS]
    assert w.double.client("lambda").get_function_configuration(FunctionName="albums-get")["MemorySize"] == 512
    assert_stack_works(w)


@pytest.mark.parametrize("state", ["Pending", "InProgress"])
def test_function_left_busy_by_an_interrupted_run_is_waited_for(state: str, world: Callable[..., World],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    w.deploy()
    for function in r.FUNCTIONS:
        w.double.leave_function(function.name, state)
    monkeypatch.setattr(functions, "build_zip", lambda _dir: _ZIP["zip"] + b"\0")
    _, report = w.deploy()
    assert report.changes == [f"function {f.name}" for f in r.FUNCTIONS]
    assert_stack_works(w)


def test_index_added_to_an_existing_table_is_built_before_the_deploy_ends(world: Callable[..., World],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    old = table.TABLE_DEFINITION
    monkeypatch.setattr(table, "TABLE_DEFINITION", with_an_index(old))  # a newer definition names an index
    w.double.client("dynamodb").create_table(TableName=r.TABLE, **old)  # made by an older bootstrap
    w.deploy()
    assert w.clock.now >= w.double.index_delay
    assert_stack_works(w)


def test_account_level_block_public_access_gives_one_clear_error(world: Callable[..., World]) -> None:
    w = world(account_blocks_public_policy=True)
    with pytest.raises(StackError, match="Block Public Access on for the account"):
        w.deploy()


def test_role_that_never_becomes_assumable_fails_after_the_wait(world: Callable[..., World]) -> None:
    w = world(role_delay=10_000)
    with pytest.raises(Exception, match="cannot be assumed by Lambda"):
        w.deploy()
    assert functions.ROLE_PROPAGATION_SECONDS <= w.clock.now < 2 * functions.ROLE_PROPAGATION_SECONDS


def _run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def test_destroy_without_a_region_refuses_and_deletes_nothing(world: Callable[..., World],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    w = world()
    w.deploy()
    monkeypatch.delenv("AWS_REGION")
    code, err = _run_cli("destroy", "--target", "aws", capsys=capsys)
    assert (code, err.strip()) == (1, "error: no AWS region: set AWS_REGION or a region in your profile "
                                      "(aws configure); nothing was changed")
    assert w.target.outputs_file.exists()
    assert_stack_works(w)


def test_destroy_in_another_region_refuses_and_deletes_nothing(world: Callable[..., World],
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    w = world()
    w.deploy()
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    code, err = _run_cli("destroy", "--target", "aws", capsys=capsys)
    assert code == 1
    assert "records the stack in eu-west-1" in err and "nothing was changed" in err
    assert_stack_works(w)


def test_the_profiles_region_is_used_when_no_variable_names_one(world: Callable[..., World],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    w = world()
    w.deploy()
    monkeypatch.delenv("AWS_REGION")
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(f"[default]\nregion = {REGION}\n")
    assert resolve("aws").region == REGION
    code, _ = _run_cli("destroy", "--target", "aws", capsys=capsys)
    assert code == 0
    assert not w.target.outputs_file.exists()
    assert w.double.client("lambda").list_functions()["Functions"] == []


def test_aws_state_is_kept_apart_from_the_local_stack(aws_env: Clock, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("STACK_DIR", str(tmp_path / "local"))
    assert resolve("aws").stack_dir == tmp_path / "stack-aws"
    assert resolve("local").stack_dir == tmp_path / "local"


def test_function_dependencies_are_fetched_for_the_lambda_platform(tmp_path: Path) -> None:
    command = functions.pip_install_command(tmp_path)
    assert command[command.index("--platform") + 1] == "manylinux2014_x86_64"
    assert command[command.index("--python-version") + 1] == r.LAMBDA_RUNTIME.removeprefix("python")
    assert "--only-binary=:all:" in command


@pytest.mark.parametrize(("target", "password_auth", "flows"), [
    ("aws", None, []), ("aws", "1", ["ALLOW_USER_PASSWORD_AUTH"]),
    (None, None, ["ALLOW_USER_PASSWORD_AUTH"]), ("local", None, ["ALLOW_USER_PASSWORD_AUTH"]), ("local", "0", []),
])
def test_password_sign_in_is_off_on_aws_unless_asked_for(target: str | None, password_auth: str | None,
                                                         flows: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"TARGET": target, "PASSWORD_AUTH": password_auth}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert password_auth_flows() == flows
