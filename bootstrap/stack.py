"""Deploy the stack (template.yaml) through CloudFormation on any target, then the post-deploy step: upload the site
with its config.js, made from the stack's outputs, write outputs.json; `seed` fills an empty table."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from albums import domain, table
from bootstrap import cloudformation, functions, site
from bootstrap import template as tpl
from bootstrap.errors import StackError
from bootstrap.seed_data import load_albums
from bootstrap.seeding import rebuild_catalog, seed_albums
from bootstrap.target import Client, Target, password_auth

# Sign-up takes a username, an e-mail and a password. The username is the Cognito Username (unique, refused at
# sign-up when taken, case-insensitive); the e-mail is a sign-in alias once verified. Cognito refuses an e-mail-shaped
# username in a pool with the e-mail alias, hence no "@" below. The site's form checks the same rule (config.js) and
# sends usernames in lower case (MiniStack ignores CaseSensitive=False; lower case behaves the same on both).
USERNAME_RULE = {"minLength": 3, "maxLength": 32, "pattern": "^[a-z0-9._-]+$",
                 "description": "lower-case letters, digits, dots, dashes and underscores"}
LOCAL_BUCKET = "testprotest"  # the local site's URL names it: {endpoint}/testprotest/index.html


@dataclass
class Report:
    """What a run did, so a second `make up` can show that it changed nothing."""

    changes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def step(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 2)


def bucket_name(target: Target) -> str:
    """The site's bucket: BUCKET_NAME, else the local name, else (AWS, where names are global) the template's
    testprotest-<account>-<region>."""
    if os.environ.get("BUCKET_NAME"):
        return os.environ["BUCKET_NAME"]
    if target.local:
        return LOCAL_BUCKET
    return f"{LOCAL_BUCKET}-{target.account}-{target.region}"


def artifacts_bucket(target: Target) -> str:
    """Where the function zip is uploaded for CloudFormation (what `sam deploy --s3-bucket` names): private."""
    return "albums-artifacts" if target.local else f"albums-artifacts-{target.account}-{target.region}"


SITES = ("cloudfront", "s3-website")


def site_hosting(target: Target) -> str:
    """How the site is served: on AWS through CloudFront (HTTPS) unless SITE=s3-website; the emulators serve the
    bucket itself (they store a CloudFront distribution but do not serve it)."""
    if target.local:
        return "s3-website"
    site = os.environ.get("SITE") or "cloudfront"
    if site not in SITES:
        raise StackError(f"SITE={site!r}: choose cloudfront (HTTPS, the default) or s3-website (plain HTTP)")
    return site


def site_warning(target: Target) -> str | None:
    if not target.local and site_hosting(target) == "s3-website":
        return ("warning: SITE=s3-website serves the site over plain HTTP: sign-in and tokens cross the network "
                "unencrypted (the default, SITE=cloudfront, is HTTPS)")
    return None


def parameters(target: Target) -> dict[str, str]:
    return {"SiteBucketName": os.environ.get("BUCKET_NAME") or (LOCAL_BUCKET if target.local else ""),
            "Site": site_hosting(target),
            # Locally the pages come from the emulator's own address: that is the one origin the API allows.
            "SiteOrigin": target.endpoint or "",
            "PasswordAuth": "true" if password_auth(target) else "false",
            # The emulators keep the app's first minutes as they were: whoever signs up may edit (issue 22).
            "NewUsersAreEditors": "true" if target.local else "false"}


def recorded_stack(target: Target) -> dict[str, Any]:
    """On AWS the outputs file is the record of what runs, and bills, where. Refuse to act when the credentials or
    region point elsewhere: a deploy would lose track of the recorded stack, a destroy would miss it."""
    recorded = json.loads(target.outputs_file.read_text()) if target.outputs_file.exists() else {}
    if target.local or not recorded:
        return recorded
    account = target.account
    if (recorded.get("Region"), recorded.get("Account")) != (target.region, account):
        raise StackError(f"{target.outputs_file} records the stack in {recorded.get('Region')}, account "
                         f"{recorded.get('Account')}, but your credentials and region are {target.region}, account "
                         f"{account}: switch profile or AWS_REGION (or use another AWS_STACK_DIR); nothing was changed")
    return recorded


def _write_outputs(target: Target, outputs: dict[str, Any]) -> None:
    target.stack_dir.mkdir(parents=True, exist_ok=True)
    target.outputs_file.write_text(json.dumps(outputs, indent=2) + "\n")


def poll_seconds(target: Target) -> float:
    return 0.02 if target.local else 3.0


def deploy(target: Target, out: Callable[[str], None] = print) -> tuple[dict[str, Any], Report]:
    report = Report()
    recorded = recorded_stack(target)
    if not target.local:  # record where the stack goes before making anything, so an interrupted run can be destroyed
        _write_outputs(target, {**recorded, "Target": target.name, "Region": target.region,
                                "Account": target.account})
    warning = site_warning(target)
    if warning:
        out(warning)
    started = time.monotonic()
    cfn = target.client("cloudformation")
    template = tpl.load()
    bucket = bucket_name(target)
    refuse_foreign(target, template, cloudformation.physical_ids(cfn, tpl.STACK_NAME), bucket)
    code = upload_code(target, functions.build_zip(target.stack_dir / "build"))
    report.step("package", started)

    started = time.monotonic()
    report.changes = cloudformation.deploy(cfn, tpl.STACK_NAME, tpl.packaged(template, code), parameters(target),
                                           poll=poll_seconds(target), out=out)
    stack_outputs = cloudformation.outputs(cfn, tpl.STACK_NAME)
    report.step("cloudformation", started)

    started = time.monotonic()
    outputs: dict[str, Any] = {
        "Target": target.name,
        "Region": target.region,
        "Account": target.account,
        "EndpointUrl": target.endpoint,
        "UserPoolId": stack_outputs["UserPoolId"],
        "UserPoolClientId": stack_outputs["UserPoolClientId"],
        "RestApiId": stack_outputs["RestApiId"],
        "Stage": stack_outputs["Stage"],
        # Emulators serve the API and the bucket under their own endpoint; the template's outputs are AWS's URLs.
        "ApiUrl": target.api_url(stack_outputs["RestApiId"]) if target.local else stack_outputs["ApiUrl"],
        "WebsiteUrl": target.website_url(stack_outputs["BucketName"]) if target.local else stack_outputs["WebsiteUrl"],
        "TableName": stack_outputs["TableName"],
        "BucketName": stack_outputs["BucketName"],
        "MailboxUrl": target.mailbox_url(),
        "SiteOrigin": stack_outputs["SiteOrigin"],
    }
    files = site.site_files(config_js(target, outputs), site.connect_sources(target, outputs["ApiUrl"]))
    written = site.upload(target, outputs["BucketName"], files)
    if written:
        report.changes.append(f"site: {written} file(s) uploaded")
    report.step("site", started)
    _write_outputs(target, outputs)
    return outputs, report


def refuse_foreign(target: Target, template: tpl.Template, ours: dict[str, str], bucket: str) -> None:
    """Refuse, before changing anything, to deploy where a table, pool or bucket of the template's names exists that
    this stack did not make: AWS would fail half-way, and MiniStack would silently take it over (or wipe it)."""
    table_name = template["Resources"]["AlbumsTable"]["Properties"]["TableName"]
    pool_name = template["Resources"]["UserPool"]["Properties"]["UserPoolName"]
    if ours.get("AlbumsTable") == table_name and ours.get("UserPool") and ours.get("SiteBucket") == bucket:
        return  # the stack holds all three already: nothing of these names will be created
    foreign = []
    if ours.get("AlbumsTable") != table_name and table_exists(target.client("dynamodb"), table_name):
        foreign.append(f"table {table_name}")
    pages = target.client("cognito-idp").get_paginator("list_user_pools").paginate(MaxResults=60)
    pools = [pool["Id"] for page in pages for pool in page["UserPools"]
             if pool["Name"] == pool_name and pool["Id"] != ours.get("UserPool")]
    if pools:
        foreign.append(f"user pool {pool_name} ({', '.join(pools)})")
    if ours.get("SiteBucket") != bucket and site.bucket_exists(target.client("s3"), bucket):
        foreign.append(f"bucket {bucket}")
    if not foreign:
        return
    hint = ("they are from an older bootstrap or another tool: `make reset` wipes this local state (users and albums "
            "too)" if target.local else "delete or rename them, or deploy to another region or account (BUCKET_NAME "
            "names another bucket)")
    raise StackError(f"{', '.join(foreign)} exist(s) but not in stack {tpl.STACK_NAME}: {hint}; nothing was changed")


def table_exists(dynamodb: Client, name: str) -> bool:
    try:
        dynamodb.describe_table(TableName=name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return False
    return True


def upload_code(target: Target, code: bytes) -> dict[str, str]:
    """Upload the function zip under its content's hash (what `sam deploy` does): the same code is the same key, so an
    unchanged function is no change to the stack."""
    s3, bucket = target.client("s3"), artifacts_bucket(target)
    site.ensure_private_bucket(target, bucket)
    key = f"albums-function-{functions.sha256(code)}.zip"
    if not site.object_exists(s3, bucket, key):
        s3.put_object(Bucket=bucket, Key=key, Body=code)
    return {"S3Bucket": bucket, "S3Key": key}


def config_js(target: Target, outputs: dict[str, Any]) -> str:
    config = {
        "region": outputs["Region"],
        "userPoolId": outputs["UserPoolId"],
        "userPoolClientId": outputs["UserPoolClientId"],
        # The browser SDK wants the endpoint with a trailing slash; null means the real Cognito.
        "cognitoEndpoint": f"{target.endpoint}/" if target.local else None,
        "apiUrl": outputs["ApiUrl"],
        "mailboxUrl": outputs["MailboxUrl"],
        "albumFields": domain.fields_json(),  # the one field table: the site's columns and forms follow it
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
        "passwordPolicy": password_policy(target, outputs["UserPoolId"]),
        "usernameRule": USERNAME_RULE,
    }
    return ("// Generated by the bootstrap for this stack; do not edit or commit.\n"
            f"window.APP_CONFIG = Object.freeze({json.dumps(config, indent=2, ensure_ascii=False)});\n")


def password_policy(target: Target, pool_id: str) -> dict[str, Any]:
    """The pool's own password rules (what Cognito enforces), for the sign-up form's checklist."""
    pool = target.client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    policy: dict[str, Any] = pool["Policies"]["PasswordPolicy"]
    return policy


def table_name() -> str:
    name: str = tpl.load()["Resources"]["AlbumsTable"]["Properties"]["TableName"]
    return name


def seed(target: Target) -> int:
    """Load the seed albums only into an empty table: a later `make up` never overwrites what users changed.

    A table from before the catalog (albums but no catalog directory) gets its catalog built from its albums."""
    dynamodb = target.session.resource("dynamodb", endpoint_url=target.endpoint)
    albums_table = dynamodb.Table(table_name())
    if albums_table.scan(Limit=1, ProjectionExpression="#r", ExpressionAttributeNames={"#r": "Rank"})["Items"]:
        directory = albums_table.get_item(Key={"Rank": table.DIRECTORY_RANK}, ConsistentRead=True).get("Item", {})
        if directory.get("format") != table.CATALOG_FORMAT:
            rebuild_catalog(albums_table)
        return 0
    albums = load_albums()
    seed_albums(albums_table, albums)
    return len(albums)
