"""`make destroy` asks first, and keeps a way back; `make restore` takes it.

The table and the pool are data: the template retains them when the stack goes, and protects them from deletion. So
a destroy says what it would delete (the stack, how many albums, how many users) and changes nothing unless it is
given CONFIRM=<account>/<region>. Then it takes an on-demand backup of the table (kept by DynamoDB after the table is
gone, until you delete it), deletes the stack, and then the retained table and pool too, unless KEEP_DATA=1.
`restore` loads the albums of such a backup into the table of a new deploy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from albums import table
from bootstrap import cloudformation, site
from bootstrap import template as tpl
from bootstrap.errors import StackError
from bootstrap.stack import artifacts_bucket, poll_seconds, recorded_stack, table_exists, table_name
from bootstrap.target import Client, Target

Out = Callable[[str], None]


def expected_confirmation(target: Target) -> str:
    return f"{target.account}/{target.region}"


def destroy(target: Target, out: Out, *, confirm: str | None, keep_data: bool) -> None:
    if not target.local and not recorded_stack(target):
        raise StackError(f"no {target.outputs_file}: no record of a stack deployed from here (set AWS_STACK_DIR to "
                         "the folder of the deploy); nothing was destroyed")
    cfn = target.client("cloudformation")
    ours = cloudformation.physical_ids(cfn, tpl.STACK_NAME)
    if not ours:
        out(f"no stack {tpl.STACK_NAME} on {target.name} ({target.region})")
        site.delete_bucket(target.client("s3"), artifacts_bucket(target))
        target.outputs_file.unlink(missing_ok=True)
        return
    pool_id, has_table = ours.get("UserPool"), table_exists(target.client("dynamodb"), table_name())
    out(f"This deletes stack {tpl.STACK_NAME} in account {target.account}, region {target.region} "
        f"({len(ours)} resources), with:")
    out(f"  table {table_name()}: {count_albums(target) if has_table else 0} albums"
        + (" (kept: KEEP_DATA=1)" if keep_data else ""))
    out(f"  user pool {pool_id}: {count_users(target, pool_id) if pool_id else 0} users"
        + (" (kept: KEEP_DATA=1)" if keep_data else ""))
    out(f"  bucket {ours.get('SiteBucket')}: the site")
    wanted = expected_confirmation(target)
    if confirm != wanted:
        said = f" (CONFIRM={confirm} names another account or region)" if confirm else ""
        raise StackError(f"nothing was deleted{said}: to delete all of this, run it again with CONFIRM={wanted} "
                         "(a backup of the table is taken first; KEEP_DATA=1 keeps the table and the pool)")
    if has_table:
        name, arn = backup(target)
        out(f"backup of the albums: {name} ({arn}); `make restore TARGET={target.name} BACKUP={name}` loads it "
            "into a new deploy")
    bucket = ours.get("SiteBucket")
    if bucket:
        site.empty(target.client("s3"), bucket)
    cloudformation.delete(cfn, tpl.STACK_NAME, poll=poll_seconds(target), out=out)
    if keep_data:
        out(f"kept: table {table_name()} and user pool {pool_id} (a new deploy refuses them while they exist: "
            "delete them, or deploy elsewhere)")
    else:
        _delete_table(target)
        if pool_id:
            _delete_pool(target, pool_id)
    site.delete_bucket(target.client("s3"), artifacts_bucket(target))
    target.outputs_file.unlink(missing_ok=True)


def count_albums(target: Target) -> int:
    """Albums only: the catalog items and the directory (Rank <= 0) are not albums."""
    pages = target.client("dynamodb").get_paginator("scan").paginate(
        TableName=table_name(), Select="COUNT", FilterExpression="#r > :zero",
        ExpressionAttributeNames={"#r": "Rank"}, ExpressionAttributeValues={":zero": {"N": str(table.DIRECTORY_RANK)}})
    return sum(page["Count"] for page in pages)


def count_users(target: Target, pool_id: str) -> int:
    count: int = target.client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"].get(
        "EstimatedNumberOfUsers", 0)
    return count


def backup(target: Target) -> tuple[str, str]:
    name = f"{table_name()}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    details = target.client("dynamodb").create_backup(TableName=table_name(), BackupName=name)["BackupDetails"]
    return name, details["BackupArn"]


def _delete_table(target: Target, name: str | None = None) -> None:
    dynamodb, name = target.client("dynamodb"), name or table_name()
    if not table_exists(dynamodb, name):
        return
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=_waits(target))


def _delete_pool(target: Target, pool_id: str) -> None:
    cognito = target.client("cognito-idp")
    try:
        cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE", **_pool_settings(cognito, pool_id))
        cognito.delete_user_pool(UserPoolId=pool_id)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def _pool_settings(cognito: Client, pool_id: str) -> dict[str, Any]:
    """UpdateUserPool resets every setting it is not given to its default: give back the ones the pool has."""
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    keep = ("Policies", "AutoVerifiedAttributes", "VerificationMessageTemplate", "AccountRecoverySetting",
            "UserPoolTags", "AdminCreateUserConfig", "MfaConfiguration")
    return {key: pool[key] for key in keep if key in pool}


def _waits(target: Target) -> dict[str, int]:
    return {"Delay": 1, "MaxAttempts": 60} if target.local else {"Delay": 5, "MaxAttempts": 120}


def backups(target: Target) -> list[dict[str, Any]]:
    """The table's on-demand backups, newest first."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table_name(), "BackupType": "USER"}
    while True:
        page = target.client("dynamodb").list_backups(**kwargs)
        found += page.get("BackupSummaries", [])
        if "LastEvaluatedBackupArn" not in page:
            break
        kwargs["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]
    return sorted(found, key=lambda b: b["BackupCreationDateTime"], reverse=True)


def restore(target: Target, out: Out, *, backup_name: str | None) -> None:
    """Replace the deployed table's items with a backup's: restored into a new table first (DynamoDB restores only
    into a new table), copied across, and that table deleted."""
    available = backups(target)
    if not backup_name:
        if not available:
            out(f"no backups of table {table_name()} in {target.region}")
        for summary in available:
            out(f"  {summary['BackupName']}  {summary['BackupCreationDateTime']:%Y-%m-%d %H:%M:%S}  "
                f"{summary.get('BackupSizeBytes', 0):,} bytes")
        if available:
            out(f"restore one with: make restore TARGET={target.name} BACKUP=<name>")
        return
    chosen = next((b for b in available if backup_name in {b["BackupName"], b["BackupArn"]}), None)
    if chosen is None:
        raise StackError(f"no backup {backup_name!r} of table {table_name()} in {target.region} "
                         "(`make restore` lists them); nothing was changed")
    if not cloudformation.physical_ids(target.client("cloudformation"), tpl.STACK_NAME).get("AlbumsTable"):
        raise StackError(f"no deployed stack {tpl.STACK_NAME} to restore into: deploy first; nothing was changed")
    dynamodb = target.client("dynamodb")
    scratch = f"{table_name()}-restore-{int(time.time())}"
    dynamodb.restore_table_from_backup(TargetTableName=scratch, BackupArn=chosen["BackupArn"])
    try:
        dynamodb.get_waiter("table_exists").wait(TableName=scratch, WaiterConfig=_waits(target))
        restored = _replace_items(target, source=scratch)
    finally:
        _delete_table(target, scratch)
    out(f"restored {restored} albums from {chosen['BackupName']} into table {table_name()}")


def _replace_items(target: Target, *, source: str) -> int:
    """Every item of `source` into the deployed table (albums, catalog items and the directory, as backed up), after
    removing what the table held. Returns the number of albums."""
    resource = target.session.resource("dynamodb", endpoint_url=target.endpoint)
    destination, origin = resource.Table(table_name()), resource.Table(source)
    with destination.batch_writer() as batch:
        for item in _scan(destination, ProjectionExpression="#r", ExpressionAttributeNames={"#r": "Rank"}):
            batch.delete_item(Key={"Rank": item["Rank"]})
    albums = 0
    with destination.batch_writer() as batch:
        for item in _scan(origin):
            batch.put_item(Item=item)
            albums += item["Rank"] > table.DIRECTORY_RANK
    return albums


def _scan(source: Any, **kwargs: Any) -> Any:
    while True:
        page = source.scan(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
