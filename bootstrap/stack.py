"""Create or update the whole stack, idempotently, on any target; write outputs.json and the site's config.js."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from albums import domain, table
from albums.repository import AlbumRepository, seed_albums
from bootstrap import api, cognito, functions, site
from bootstrap import resources as r
from bootstrap.errors import StackError
from bootstrap.seed_data import load_albums
from bootstrap.target import Client, Target


@dataclass
class Report:
    """What a run did, so a second `make up` can show that it changed nothing."""

    changes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def step(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 2)


def bucket_name(target: Target) -> str:
    if os.environ.get("BUCKET_NAME"):
        return os.environ["BUCKET_NAME"]
    if target.name == "aws":  # bucket names are global on AWS
        account = target.client("sts").get_caller_identity()["Account"]
        return f"{r.BUCKET}-{account}-{target.region}"
    return r.BUCKET


def account_id(target: Target) -> str:
    account: str = target.client("sts").get_caller_identity()["Account"]
    return account


def ensure_table(target: Target) -> str:
    """Create the Albums table (and its index) from the one definition the functions and tests also use, and return
    only once it and every index are ACTIVE: the seed and the first listing need both."""
    dynamodb = target.client("dynamodb")
    description = _describe_table(dynamodb)
    if description is not None and description["TableStatus"] == "DELETING":
        # A `destroy` just before: reusing the name now would hand the seed a table that is about to vanish.
        dynamodb.get_waiter("table_not_exists").wait(TableName=r.TABLE, WaiterConfig=_TABLE_WAIT)
        description = None
    if description is None:
        dynamodb.create_table(TableName=r.TABLE, **table.TABLE_DEFINITION)
    dynamodb.get_waiter("table_exists").wait(TableName=r.TABLE, WaiterConfig=_TABLE_WAIT)  # ACTIVE, not CREATING
    description = _wait_for_indexes(dynamodb)
    present = {index["IndexName"] for index in description.get("GlobalSecondaryIndexes", [])}
    for index in table.TABLE_DEFINITION.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] not in present:  # a table made by an older bootstrap: add the missing index
            dynamodb.update_table(TableName=r.TABLE, AttributeDefinitions=table.TABLE_DEFINITION[
                "AttributeDefinitions"], GlobalSecondaryIndexUpdates=[{"Create": index}])
            # One index build at a time (DynamoDB refuses a second while one is CREATING), and the listing
            # queries it: wait until it is backfilled.
            description = _wait_for_indexes(dynamodb)
    arn: str = description["TableArn"]
    return arn


_TABLE_WAIT = {"Delay": 5, "MaxAttempts": 120}  # up to 10 minutes


def _describe_table(dynamodb: Client) -> dict[str, Any] | None:
    try:
        description: dict[str, Any] = dynamodb.describe_table(TableName=r.TABLE)["Table"]
        return description
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return None


def _wait_for_indexes(dynamodb: Client) -> dict[str, Any]:
    """Until the table and all its indexes are ACTIVE (a new index stays CREATING while DynamoDB backfills it)."""
    for _ in range(_TABLE_WAIT["MaxAttempts"]):
        description: dict[str, Any] = dynamodb.describe_table(TableName=r.TABLE)["Table"]
        statuses = [description["TableStatus"]] + [
            index.get("IndexStatus", "ACTIVE") for index in description.get("GlobalSecondaryIndexes", [])]
        if all(status == "ACTIVE" for status in statuses):
            return description
        time.sleep(_TABLE_WAIT["Delay"])
    raise StackError(f"table {r.TABLE} or its index is still not ACTIVE after 10 minutes: run the deploy again")


def recorded_stack(target: Target) -> dict[str, Any]:
    """On AWS the outputs file is the record of what runs, and bills, where. Refuse to act when the credentials or
    region point elsewhere: a deploy would lose track of the recorded stack, a destroy would miss it."""
    recorded = json.loads(target.outputs_file.read_text()) if target.outputs_file.exists() else {}
    if target.local or not recorded:
        return recorded
    account = account_id(target)
    if (recorded.get("Region"), recorded.get("Account")) != (target.region, account):
        raise StackError(f"{target.outputs_file} records the stack in {recorded.get('Region')}, account "
                         f"{recorded.get('Account')}, but your credentials and region are {target.region}, account "
                         f"{account}: switch profile or AWS_REGION (or use another AWS_STACK_DIR); nothing was changed")
    return recorded


def _write_outputs(target: Target, outputs: dict[str, Any]) -> None:
    target.stack_dir.mkdir(parents=True, exist_ok=True)
    target.outputs_file.write_text(json.dumps(outputs, indent=2) + "\n")


def deploy(target: Target) -> tuple[dict[str, Any], Report]:
    report = Report()
    recorded = recorded_stack(target)
    if not target.local:  # record where the stack goes before making anything, so an interrupted run can be destroyed
        _write_outputs(target, {**recorded, "Target": target.name, "Region": target.region,
                                "Account": account_id(target)})
    started = time.monotonic()
    pool_id, pool_arn, client_id = cognito.ensure_user_pool(target)
    report.step("cognito", started)

    started = time.monotonic()
    table_arn = ensure_table(target)
    report.step("table", started)

    started = time.monotonic()
    code = functions.build_zip(target.stack_dir / "build")
    # LOG_LEVEL explicitly: the emulator's own LOG_LEVEL leaks into its workers, and a function that prints nothing
    # makes MiniStack wait 50 ms for log output on every call.
    environment = {"ALBUMS_TABLE": r.TABLE, "CORS_ALLOW_ORIGIN": "*", "LOG_LEVEL": "INFO"}
    function_arns: dict[str, str] = {}
    for function in r.FUNCTIONS:
        functions.ensure_log_group(target, function)
        role_arn, role_created = functions.ensure_role(target, function, table_arn)
        function_arns[function.method], changed = functions.ensure_function(target, function, role_arn, code,
                                                                             environment)
        if role_created or changed:
            report.changes.append(f"function {function.name}")
    report.step("functions", started)

    started = time.monotonic()
    api_id, api_changed = api.ensure_api(target, pool_arn, function_arns)
    source_arn = api.execute_arn(target, account_id(target), api_id)
    for function in r.FUNCTIONS:
        functions.allow_api_gateway(target, function, source_arn)
    if api_changed:
        report.changes.append(f"api {r.REST_API} (new deployment)")
    report.step("api", started)

    started = time.monotonic()
    bucket = bucket_name(target)
    api_url = target.api_url(api_id)
    outputs = {
        "Target": target.name,
        "Region": target.region,
        "Account": account_id(target),
        "EndpointUrl": target.endpoint,
        "UserPoolId": pool_id,
        "UserPoolClientId": client_id,
        "RestApiId": api_id,
        "Stage": target.stage,
        "ApiUrl": api_url,
        "WebsiteUrl": target.website_url(bucket),
        "TableName": r.TABLE,
        "BucketName": bucket,
        "MailboxUrl": target.mailbox_url(),
    }
    site.ensure_bucket(target, bucket)
    files = site.site_files(config_js(target, outputs), site.connect_sources(target, api_url))
    written = site.upload(target, bucket, files)
    if written:
        report.changes.append(f"site: {written} file(s) uploaded")
    report.step("site", started)

    _write_outputs(target, outputs)
    return outputs, report


def config_js(target: Target, outputs: dict[str, Any]) -> str:
    config = {
        "region": outputs["Region"],
        "userPoolId": outputs["UserPoolId"],
        "userPoolClientId": outputs["UserPoolClientId"],
        # The browser SDK wants the endpoint with a trailing slash; null means the real Cognito.
        "cognitoEndpoint": f"{target.endpoint}/" if target.local else None,
        "apiUrl": outputs["ApiUrl"],
        "mailboxUrl": outputs["MailboxUrl"],
        "albumSchema": domain.album_json_schema(),
        "albumChangesSchema": domain.album_changes_json_schema(),
        # The listing's rules, as the GET function applies them.
        "listing": {
            "pageLimitDefault": domain.PAGE_LIMIT_DEFAULT,
            "pageLimitMax": domain.PAGE_LIMIT_MAX,
            "sortFields": list(domain.SORT_FIELDS),
            "sortOrders": list(domain.SORT_ORDERS),
            "searchMaxLength": domain.SEARCH_MAX_LENGTH,
        },
        # The forms' limits come from the stack, never copied by hand: the pool's password policy as Cognito holds
        # it, and the username rule the pool is created for.
        "passwordPolicy": cognito.password_policy(target, outputs["UserPoolId"]),
        "usernameRule": r.USERNAME_RULE,
    }
    return ("// Generated by the bootstrap for this stack; do not edit or commit.\n"
            f"window.APP_CONFIG = Object.freeze({json.dumps(config, indent=2, ensure_ascii=False)});\n")


def seed(target: Target) -> int:
    """Load the seed albums only into an empty table: a later `make up` never overwrites what users changed.

    A table from before the catalog (albums but no catalog directory) gets its catalog built from its albums."""
    dynamodb = target.session.resource("dynamodb", endpoint_url=target.endpoint)
    albums_table = dynamodb.Table(r.TABLE)
    if albums_table.scan(Limit=1, ProjectionExpression="#r", ExpressionAttributeNames={"#r": "Rank"})["Items"]:
        directory = albums_table.get_item(Key={"Rank": table.DIRECTORY_RANK}, ConsistentRead=True).get("Item", {})
        if directory.get("format") != table.CATALOG_FORMAT:
            AlbumRepository(albums_table).rebuild_catalog()
        return 0
    albums = load_albums()
    seed_albums(albums_table, albums)
    return len(albums)


def destroy(target: Target) -> None:
    if not target.local and not recorded_stack(target):
        raise StackError(f"no {target.outputs_file}: no record of a stack deployed from here (set AWS_STACK_DIR to "
                         "the folder of the deploy); nothing was destroyed")
    api.destroy(target)
    functions.destroy(target)
    site.destroy(target, bucket_name(target))
    dynamodb = target.client("dynamodb")
    try:
        dynamodb.delete_table(TableName=r.TABLE)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    # Wait until it is gone: a deploy right after would otherwise find it DELETING.
    dynamodb.get_waiter("table_not_exists").wait(TableName=r.TABLE, WaiterConfig=_TABLE_WAIT)
    cognito.destroy(target)
    target.outputs_file.unlink(missing_ok=True)
