"""`make editor` (bootstrap/editor.py) against moto's Cognito: who it finds by username or verified e-mail, what it
changes and says; and the Makefile never takes the shell's own $USER for a user of the app."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from albums import authorization
from bootstrap import editor
from bootstrap.errors import StackError
from bootstrap.target import Target

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def target(tmp_path: Path):
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = cognito.create_user_pool(PoolName="projectpool", AliasAttributes=["email"])["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", IdTokenValidity=15,
            TokenValidityUnits={"IdToken": "minutes"})["UserPoolClient"]["ClientId"]
        cognito.create_group(UserPoolId=pool_id, GroupName="editors")
        for name, email, verified in [("alice", "alice@example.com", "true"), ("bob", "shared@example.com", "false"),
                                      ("carol", "shared@example.com", "false")]:
            cognito.admin_create_user(UserPoolId=pool_id, Username=name, UserAttributes=[
                {"Name": "email", "Value": email}, {"Name": "email_verified", "Value": verified}])
        (tmp_path / "outputs.json").write_text(json.dumps({"UserPoolId": pool_id, "UserPoolClientId": client_id}))
        local = Target("aws", "us-east-1", None, tmp_path)
        local._clients["cognito-idp"] = cognito  # the mocked client, not a new session's
        yield local


def groups(target: Target, username: str) -> set[str]:
    pool_id = json.loads(target.outputs_file.read_text())["UserPoolId"]
    answer = target.client("cognito-idp").admin_list_groups_for_user(UserPoolId=pool_id, Username=username)
    return {group["GroupName"] for group in answer["Groups"]}


def test_grants_by_username_and_revokes_by_verified_e_mail(target: Target) -> None:
    said = editor.change(target, "Alice")
    assert groups(target, "alice") == {"editors"}
    assert said.startswith("alice (alice@example.com) is an editor now") and "at most 15 minutes" in said

    assert "editor already: nothing changed" in editor.change(target, "alice")

    said = editor.change(target, "alice@example.com", revoke=True)
    assert groups(target, "alice") == set()
    assert "is a reader now" in said and "keeps working until it expires (at most 15 minutes)" in said
    assert "nothing changed" in editor.change(target, "alice", revoke=True)


def test_an_unverified_e_mail_names_nobody(target: Target) -> None:
    with pytest.raises(StackError, match=r"no account has verified shared@example\.com.*bob, carol"):
        editor.change(target, "shared@example.com")
    with pytest.raises(StackError, match=r"no user 'nobody'"):
        editor.change(target, "nobody")
    with pytest.raises(StackError, match=r"no user 'nobody@example\.com'"):
        editor.change(target, "nobody@example.com")


def test_a_stack_that_was_never_deployed_is_named(tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"outputs\.json not found: deploy the stack first"):
        editor.change(Target("local", "us-east-1", "http://127.0.0.1:1", tmp_path), "alice")


def test_the_group_is_the_one_the_api_checks() -> None:
    assert editor.EDITORS_GROUP == authorization.EDITORS_GROUP


def make_dry_run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-n", "editor", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "USER": "root", "HOME": "/tmp"})


def test_make_editor_wants_user_on_the_command_line() -> None:
    refused = make_dry_run()
    assert refused.returncode != 0
    assert "give the user: make editor USER=<username or e-mail>" in refused.stderr
    planned = make_dry_run("USER=alice@example.com", "REVOKE=1", "TARGET=aws")
    assert planned.returncode == 0, planned.stderr
    assert '-m bootstrap.editor --target aws --revoke -- "alice@example.com"' in planned.stdout
