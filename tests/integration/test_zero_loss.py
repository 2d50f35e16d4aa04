"""Nothing the local cloud acknowledged is lost when its server is killed (SIGKILL) right after the acknowledgement:
items written every way DynamoDB offers, users signed up, confirmed and signed in — counted after each restart, over
several rounds, on a throwaway MiniStack of the test's own (no deploy: the emulator alone, ~1 s a round). The whole
app through its API (sign-up, creates, an update, a delete) is killed the same way by `make bench` section 11."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bootstrap.emulator import Emulator
from tests.support import throwaway_port

pytestmark = pytest.mark.own_stack
ROUNDS = 3
PASSWORD = "Passw0rd!x"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    made = Emulator((tmp_path / "stack").resolve(), throwaway_port())
    yield made
    made.stop(hard=True)


def clients(emulator: Emulator) -> tuple[Any, Any]:
    kwargs = {"endpoint_url": emulator.endpoint, "region_name": "us-east-1", "aws_access_key_id": "test",
              "aws_secret_access_key": "test"}
    return boto3.client("dynamodb", **kwargs), boto3.client("cognito-idp", **kwargs)


def test_every_acknowledged_change_survives_a_kill_right_after_it(emulator: Emulator) -> None:
    emulator.start()
    dynamodb, cognito = clients(emulator)
    dynamodb.create_table(TableName="ZeroLoss", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "N"}])
    pool = cognito.create_user_pool(PoolName="zero", AliasAttributes=["email"],
                                    AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="web", ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    expected_items: dict[str, dict[str, Any]] = {}
    expected_users: dict[str, tuple[str, str]] = {}  # username -> (status, sub)
    acknowledged = survived = 0
    for round_ in range(ROUNDS):
        base = round_ * 100
        # GIVEN acknowledged writes of every kind, the last one answered just before the kill
        for k in range(base, base + 5):
            dynamodb.put_item(TableName="ZeroLoss", Item={"k": {"N": str(k)}, "v": {"S": f"put {k}"}})
            expected_items[str(k)] = {"k": {"N": str(k)}, "v": {"S": f"put {k}"}}
        dynamodb.update_item(TableName="ZeroLoss", Key={"k": {"N": str(base)}}, UpdateExpression="SET v = :v",
                             ExpressionAttributeValues={":v": {"S": "updated"}})
        expected_items[str(base)]["v"] = {"S": "updated"}
        dynamodb.delete_item(TableName="ZeroLoss", Key={"k": {"N": str(base + 1)}})
        del expected_items[str(base + 1)]
        dynamodb.batch_write_item(RequestItems={"ZeroLoss": [
            {"PutRequest": {"Item": {"k": {"N": str(k)}, "v": {"S": "batch"}}}} for k in range(base + 10, base + 15)]})
        expected_items.update({str(k): {"k": {"N": str(k)}, "v": {"S": "batch"}} for k in range(base + 10, base + 15)})
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "ZeroLoss", "Item": {"k": {"N": str(base + 20)}, "v": {"S": "txn"}}}},
            {"Delete": {"TableName": "ZeroLoss", "Key": {"k": {"N": str(base + 2)}}}}])
        expected_items[str(base + 20)] = {"k": {"N": str(base + 20)}, "v": {"S": "txn"}}
        del expected_items[str(base + 2)]
        confirmed, pending = f"ann{round_}", f"bob{round_}"
        for name in (confirmed, pending):
            sub = cognito.sign_up(ClientId=client, Username=name, Password=PASSWORD,
                                  UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])["UserSub"]
            expected_users[name] = ("UNCONFIRMED", sub)
        cognito.confirm_sign_up(ClientId=client, Username=confirmed, ConfirmationCode="123456")
        expected_users[confirmed] = ("CONFIRMED", expected_users[confirmed][1])
        acknowledged += 5 + 1 + 1 + 5 + 2 + 2 + 1
        # WHEN the server is killed at once
        emulator.stop(hard=True)
        assert emulator.start()
        unclean = emulator.unclean_end(forget=True)
        assert unclean is not None and "nothing it acknowledged was lost" in unclean.describe()
        # THEN every item, user, confirmation and sub is back as acknowledged
        dynamodb, cognito = clients(emulator)
        items = {item["k"]["N"]: item for item in dynamodb.scan(TableName="ZeroLoss", ConsistentRead=True)["Items"]}
        assert items == expected_items
        users = {u["Username"]: (u["UserStatus"], {a["Name"]: a["Value"] for a in u["Attributes"]}["sub"])
                 for u in cognito.list_users(UserPoolId=pool)["Users"]}
        assert users == expected_users
        # the user not confirmed yet can still confirm (MiniStack keeps no sent e-mail across restarts, even
        # graceful ones, but the code lives on the user)
        cognito.confirm_sign_up(ClientId=client, Username=pending, ConfirmationCode="123456")
        expected_users[pending] = ("CONFIRMED", expected_users[pending][1])
        # the confirmed user signs in by e-mail (verified by the confirmation, which came back too)
        cognito.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": f"{confirmed}@example.com", "PASSWORD": PASSWORD})
        survived += 5 + 1 + 1 + 5 + 2 + 2 + 1
    assert survived == acknowledged == ROUNDS * 17
    assert dynamodb.describe_table(TableName="ZeroLoss")["Table"]["ItemCount"] == len(expected_items)


def test_a_stop_keeps_a_small_journal_and_a_start_in_either_mode_replays_it(emulator: Emulator,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A graceful stop does not re-serialise the table for a few changes: the journal stays, the next start replays
    it; a start in the old periodic mode folds it into the snapshot (and removes it) before serving."""
    emulator.start()
    dynamodb, _ = clients(emulator)
    dynamodb.create_table(TableName="Kept", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "N"}])
    for k in range(20):
        dynamodb.put_item(TableName="Kept", Item={"k": {"N": str(k)}})
    assert emulator.stop()
    journal = emulator.stack_dir / "state" / "journal"
    assert list(journal.glob("dynamodb.*.log"))  # kept at the stop
    monkeypatch.setenv("STACK_DURABILITY", "periodic")
    assert emulator.start()
    assert len(clients(emulator)[0].scan(TableName="Kept")["Items"]) == 20
    assert not journal.exists()  # folded into the snapshot: no later journaled run replays it over newer state
    clients(emulator)[0].put_item(TableName="Kept", Item={"k": {"N": "20"}})
    assert emulator.stop()
    monkeypatch.setenv("STACK_DURABILITY", "journal")
    assert emulator.start()
    assert len(clients(emulator)[0].scan(TableName="Kept")["Items"]) == 21
