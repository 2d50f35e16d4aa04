"""The MiniStack internals our server relies on (bootstrap/ministack_internals.py) are there and behave as the journal
assumes. MiniStack's own service handlers run in-process here (no server): an upgrade that moves an item write off
`_set_item`/`_remove_item`, renames a store or reshapes a user record fails one of these tests."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bootstrap import ministack_internals as internals
from bootstrap.durability import Durability
from bootstrap.journal import Journal

dynamodb = pytest.importorskip("ministack.services.dynamodb")
cognito = pytest.importorskip("ministack.services.cognito")


def call(module: Any, target: str, data: dict[str, Any]) -> dict[str, Any]:
    status, _headers, body = asyncio.run(module.handle_request("POST", "/", {"x-amz-target": target},
                                                               json.dumps(data).encode(), {}))
    assert status == 200, body
    result: dict[str, Any] = json.loads(body or b"{}")
    return result


def ddb(action: str, **data: Any) -> dict[str, Any]:
    return call(dynamodb, f"DynamoDB_20120810.{action}", data)


def idp(action: str, **data: Any) -> dict[str, Any]:
    return call(cognito, f"AWSCognitoIdentityProviderService.{action}", data)


@pytest.fixture
def journaled(tmp_path: Path) -> Iterator[Durability]:
    from ministack.core import persistence

    journal = Journal(tmp_path / "journal", fsync=False, encode=persistence._json_default,
                      decode=persistence._json_object_hook)
    durability = Durability(journal)
    durability.install()
    try:
        yield durability
    finally:
        durability.uninstall()
        journal.close()


def test_every_listed_internal_is_there() -> None:
    assert internals.check() == []


def test_the_journal_knows_every_store_of_the_journaled_services() -> None:
    """A store MiniStack adds to DynamoDB's or Cognito's state would escape both the journal and the fingerprints."""
    assert set(dynamodb.get_state()) == {"tables", *internals.DYNAMODB_OTHER_STORES}
    assert set(cognito.get_state()) == {"user_pools", "pool_domain_map", "identity_pools", "identity_tags",
                                        *internals.COGNITO_SMALL_STORES}


def test_only_listed_internals_can_be_reached() -> None:
    with pytest.raises(KeyError, match="not listed"):
        internals.get("ministack.services.dynamodb", "_query")


def replay_into_fresh_state(durability: Durability, snapshots: dict[str, Any]) -> None:
    """What a start does: MiniStack loads the snapshots, then the journal after them is replayed."""
    dynamodb.reset()
    cognito.reset()
    for module, state in ((dynamodb, snapshots.get("dynamodb")), (cognito, snapshots.get("cognito"))):
        if state is not None:
            module.load_persisted_state(state)
    durability.replay({"dynamodb": 1, "cognito": 1})


def snapshot(module: Any) -> Any:
    """A state file's round trip through MiniStack's own JSON encoding."""
    from ministack.core import persistence

    text = json.dumps(module.get_state(), default=persistence._json_default)
    return json.loads(text, object_hook=persistence._json_object_hook)


def test_every_kind_of_item_write_is_journaled_and_replays_to_the_same_table(journaled: Durability) -> None:
    table = f"Journal{secrets.token_hex(3)}"
    ddb("CreateTable", TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "N"}])
    journaled.journal.rotate("dynamodb")  # the snapshot taken now holds segment 1
    journaled.snapshot_taken("dynamodb")
    saved = snapshot(dynamodb)
    ddb("PutItem", TableName=table, Item={"k": {"N": "1"}, "v": {"S": "one"}})
    ddb("PutItem", TableName=table, Item={"k": {"N": "2"}, "v": {"S": "two"}})
    ddb("UpdateItem", TableName=table, Key={"k": {"N": "1"}}, UpdateExpression="SET v = :v, n = :n",
        ExpressionAttributeValues={":v": {"S": "uno"}, ":n": {"N": "7"}})
    ddb("DeleteItem", TableName=table, Key={"k": {"N": "2"}})
    ddb("BatchWriteItem", RequestItems={table: [{"PutRequest": {"Item": {"k": {"N": str(k)}}}} for k in range(3, 8)]})
    ddb("TransactWriteItems", TransactItems=[
        {"Put": {"TableName": table, "Item": {"k": {"N": "8"}, "b": {"B": "AAEC"}}}},
        {"Update": {"TableName": table, "Key": {"k": {"N": "3"}}, "UpdateExpression": "ADD c :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": table, "Key": {"k": {"N": "4"}}}}])
    expected = ddb("Scan", TableName=table)["Items"]
    assert journaled.needs_snapshot == set()  # all of it went into the journal
    journaled.journal.flush_now()
    replay_into_fresh_state(journaled, {"dynamodb": saved})
    assert sorted(ddb("Scan", TableName=table)["Items"], key=repr) == sorted(expected, key=repr)
    assert ddb("DescribeTable", TableName=table)["Table"]["ItemCount"] == len(expected)


def test_a_table_the_snapshot_does_not_hold_asks_for_a_snapshot(journaled: Durability) -> None:
    table = f"Unsaved{secrets.token_hex(3)}"
    ddb("CreateTable", TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    before = journaled.dynamodb_fingerprint()
    ddb("PutItem", TableName=table, Item={"k": {"S": "a"}})
    assert journaled.needs_snapshot == {"dynamodb"}
    ddb("UpdateTimeToLive", TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    assert journaled.dynamodb_fingerprint() != before  # a table-level change is seen by the fingerprint


def test_a_sign_up_confirmation_and_sign_in_are_journaled_and_replay_with_the_same_sub(journaled: Durability) -> None:
    import bootstrap.ministack_fixes  # noqa: F401 -- the e-mail is verified on confirmation, as on AWS

    pool_id = idp("CreateUserPool", PoolName=f"p{secrets.token_hex(3)}", AliasAttributes=["email"],
                  AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client_id = idp("CreateUserPoolClient", UserPoolId=pool_id, ClientName="web",
                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"][
        "ClientId"]
    journaled.snapshot_taken("cognito")
    journaled.journal.rotate("cognito")
    saved = snapshot(cognito)

    def user_call(action: str, **data: Any) -> dict[str, Any]:
        change = journaled.cognito_before(action, data)
        result = idp(action, **data)
        journaled.cognito_after(change)
        return result

    sub = user_call("SignUp", ClientId=client_id, Username="ann", Password="Passw0rd!x",
                    UserAttributes=[{"Name": "email", "Value": "ann@example.com"}])["UserSub"]
    user_call("ConfirmSignUp", ClientId=client_id, Username="ann", ConfirmationCode="123456")
    tokens = user_call("InitiateAuth", ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                       AuthParameters={"USERNAME": "ann@example.com", "PASSWORD": "Passw0rd!x"})
    user_call("GlobalSignOut", AccessToken=tokens["AuthenticationResult"]["AccessToken"])
    user_call("SignUp", ClientId=client_id, Username="bob", Password="Passw0rd!x",
              UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
    assert journaled.needs_snapshot == set()
    expected = {u["Username"]: u for u in idp("ListUsers", UserPoolId=pool_id)["Users"]}
    revoked = set(cognito._revoked_tokens)
    journaled.journal.flush_now()
    replay_into_fresh_state(journaled, {"cognito": saved})
    users = {u["Username"]: u for u in idp("ListUsers", UserPoolId=pool_id)["Users"]}
    assert users == expected
    attributes = {a["Name"]: a["Value"] for a in users["ann"]["Attributes"]}
    assert (users["ann"]["UserStatus"], attributes["sub"], attributes["email_verified"]) == ("CONFIRMED", sub, "true")
    assert users["bob"]["UserStatus"] == "UNCONFIRMED"
    assert set(cognito._revoked_tokens) == revoked and revoked  # the sign-out's revocations came back too
    idp("InitiateAuth", ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",  # signs in, by e-mail, after the replay
        AuthParameters={"USERNAME": "ann@example.com", "PASSWORD": "Passw0rd!x"})


def test_a_cognito_change_beyond_users_asks_for_a_snapshot(journaled: Durability) -> None:
    assert journaled.cognito_before("CreateUserPool", {"PoolName": "x"}) is None
    journaled.cognito_after(None)
    assert "cognito" in journaled.needs_snapshot


class _Worker:
    """Just what kill_workers uses of MiniStack's Worker: a process, a lease flag, a folder to discard."""

    def __init__(self) -> None:
        import subprocess

        self._proc: Any = subprocess.Popen(["sleep", "30"])
        self.proc = self._proc
        self.in_use = False
        self.discarded = False

    def _discard_tmpdir(self) -> None:
        self.discarded = True


def test_a_busy_lambda_worker_finishes_its_call_before_a_code_update_kills_it() -> None:
    """ministack_fixes fix 3: MiniStack kills every worker of a function on UpdateFunctionCode, busy ones too."""
    from ministack.core import lambda_runtime
    from ministack.services import lambda_svc

    import bootstrap.ministack_fixes  # noqa: F401

    assert lambda_svc.release_worker is lambda_runtime.release_worker  # the wrapper, in both modules
    busy, idle = _Worker(), _Worker()
    busy.in_use = True
    try:
        lambda_runtime.kill_workers([busy, idle])
        assert idle.proc.poll() is not None and idle.discarded  # an idle worker goes at once
        assert busy.proc.poll() is None and not busy.discarded  # a busy one runs on ...
        lambda_runtime.release_worker(busy)
        assert busy.proc.poll() is not None and busy.discarded  # ... until its call releases it
    finally:
        for worker in (busy, idle):
            if worker.proc.poll() is None:
                worker.proc.kill()
            worker.proc.wait()


def test_a_pooled_worker_of_older_code_is_not_reused_for_newer_code() -> None:
    """ministack_fixes fix 4: a call that read the function before an UpdateFunctionCode can pool a worker of the old
    code after the update emptied the pool; the next call, with the new code, must not be given it."""
    from ministack.core import lambda_runtime
    from ministack.services import lambda_svc

    import bootstrap.ministack_fixes  # noqa: F401

    assert lambda_svc.acquire_worker is lambda_runtime.acquire_worker  # the wrapper, in both modules
    config = {"FunctionName": "fix4", "Runtime": "python3.12",
              "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:fix4"}
    old_code, new_code = b"PK old zip", b"PK new zip"
    key = lambda_runtime._worker_key("fix4", config, "$LATEST")
    try:
        stale, reason = lambda_runtime.acquire_worker("fix4", config, old_code)  # the late call of the old code
        assert reason == "spawn" and stale.code_zip == old_code
        lambda_runtime.release_worker(stale)  # ... pooled after the update emptied the pool
        same, reason = lambda_runtime.acquire_worker("fix4", config, old_code)
        assert (same, reason) == (stale, "reused")  # the same code reuses it, as before
        lambda_runtime.release_worker(same)
        fresh, reason = lambda_runtime.acquire_worker("fix4", config, new_code)
        assert reason == "spawn" and fresh is not stale and fresh.code_zip == new_code
        assert lambda_runtime._workers[key] == [fresh]  # the old code's worker is gone from the pool
        lambda_runtime.release_worker(fresh)
    finally:
        with lambda_runtime._lock:
            left = lambda_runtime._workers.pop(key, [])
        lambda_runtime.kill_workers(left)
