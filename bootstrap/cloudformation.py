"""Deploy a template through CloudFormation as a person would with the console or `sam deploy`: a change set, what it
will change, execute, wait. A deploy with no changes changes nothing; a failed one is named in one line, and
CloudFormation has rolled the stack back to the version that ran before."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bootstrap.errors import StackError
from bootstrap.target import Client

NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# A first create that failed leaves the stack in ROLLBACK_COMPLETE: it holds nothing and can only be deleted.
DEAD = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}
# A first change set that was never executed (refused, interrupted) leaves an empty stack in REVIEW_IN_PROGRESS: the
# next deploy creates the stack with a CREATE change set again.
NEVER_CREATED = "REVIEW_IN_PROGRESS"
BUSY_SUFFIX = "_IN_PROGRESS"
# Roles with names (albums-*-role), and the template's AWS::LanguageExtensions transform (its Fn::ForEach loops).
CAPABILITIES = ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
TEMPLATE_BODY_LIMIT = 51_200  # bytes; a larger template must be given by URL


def stack(cfn: Client, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" not in error.response["Error"].get("Message", ""):
            raise
        return None
    return None if found["StackStatus"] == "DELETE_COMPLETE" else found


def outputs(cfn: Client, name: str) -> dict[str, str]:
    found = stack(cfn, name)
    if found is None:
        raise StackError(f"stack {name} is gone: run the deploy again")
    return {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}


def physical_ids(cfn: Client, name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource the stack holds ({} when there is no stack)."""
    if stack(cfn, name) is None:
        return {}
    ids: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        ids.update({res["LogicalResourceId"]: res.get("PhysicalResourceId", "")
                    for res in page["StackResourceSummaries"]})
    return ids


def deploy(cfn: Client, name: str, template: dict[str, Any], parameters: dict[str, str], *,
           poll: float, out: Callable[[str], None]) -> list[str]:
    """Create or update the stack; returns the changes made ([] when there were none)."""
    current = stack(cfn, name)
    if current is not None and current["StackStatus"] in DEAD:
        out(f"stack {name} is {current['StackStatus']} from a failed first deploy: deleting it before a new one")
        delete(cfn, name, poll=poll)
        current = None
    if current is not None and current["StackStatus"] == NEVER_CREATED:
        current = None
    if current is not None and current["StackStatus"].endswith(BUSY_SUFFIX):
        raise StackError(f"stack {name} is {current['StackStatus']} (another deploy or destroy is running): "
                         "wait for it, then run again; nothing was changed")
    body = json.dumps(template, separators=(",", ":"))
    if len(body.encode()) > TEMPLATE_BODY_LIMIT:
        raise StackError(f"the packaged template is {len(body)} bytes, over CloudFormation's {TEMPLATE_BODY_LIMIT}")
    change_set = f"{name}-{uuid.uuid4().hex[:12]}"
    cfn.create_change_set(
        StackName=name, ChangeSetName=change_set, ChangeSetType="UPDATE" if current else "CREATE",
        TemplateBody=body, Capabilities=CAPABILITIES,
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        Tags=[{"Key": "app", "Value": name}])
    described = _wait_for_change_set(cfn, name, change_set, poll)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        if any(text in reason for text in NO_CHANGES):
            return []
        raise StackError(f"CloudFormation refused the template: {reason}; nothing was changed")
    changes = [_describe_change(change["ResourceChange"]) for change in described.get("Changes", [])]
    for line in changes:
        out(f"  {line}")
    started = datetime.now().astimezone()
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    final = _wait(cfn, name, poll, out)
    if final["StackStatus"] not in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
        raise StackError(f"deploy failed: {first_failure(cfn, name, started)}; the stack is {final['StackStatus']}"
                         + (" (the version before this deploy is still running)" if current else ""))
    return changes


def _describe_change(change: dict[str, Any]) -> str:
    replacement = " (REPLACED)" if change.get("Replacement") == "True" else ""
    return f"{change['Action']:<6} {change['LogicalResourceId']} ({change['ResourceType']}){replacement}"


def _wait_for_change_set(cfn: Client, name: str, change_set: str, poll: float) -> dict[str, Any]:
    while True:
        described: dict[str, Any] = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in {"CREATE_COMPLETE", "FAILED"}:
            return described
        time.sleep(poll)


PROGRESS_SECONDS = 30  # on AWS a CloudFront distribution alone takes minutes: say that it is still going


def _wait(cfn: Client, name: str, poll: float, out: Callable[[str], None] | None = None) -> dict[str, Any]:
    started = last_said = time.monotonic()
    while True:
        current = stack(cfn, name)
        if current is None or not current["StackStatus"].endswith(BUSY_SUFFIX):
            return current or {"StackStatus": "DELETE_COMPLETE"}
        if out is not None and time.monotonic() - last_said >= PROGRESS_SECONDS:
            last_said = time.monotonic()
            busy = [res["LogicalResourceId"] for res in cfn.list_stack_resources(StackName=name)[
                "StackResourceSummaries"] if res["ResourceStatus"].endswith(BUSY_SUFFIX)]
            out(f"  ... {current['StackStatus']} for {last_said - started:.0f} s; in progress: "
                + (", ".join(busy) or "none"))
        time.sleep(poll)


def first_failure(cfn: Client, name: str, since: datetime) -> str:
    """The first resource that failed in this operation and why: the cause, not the cancellations it set off."""
    failures = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
        for event in page["StackEvents"]:
            if event["Timestamp"] < since:
                break
            reason = event.get("ResourceStatusReason", "")
            if event["ResourceStatus"].endswith("_FAILED") and event["LogicalResourceId"] != name \
                    and "cancelled" not in reason.lower():
                failures.append(event)
    if not failures:
        return "no resource reported a failure (see the stack's events)"
    event = failures[-1]  # events come newest first
    reason = event.get("ResourceStatusReason", "").strip().rstrip(".")
    return f"{event['LogicalResourceId']} ({event['ResourceType']}): {reason}"


def delete(cfn: Client, name: str, *, poll: float, out: Callable[[str], None] | None = None) -> bool:
    """Delete the stack and wait; False when there was none."""
    if stack(cfn, name) is None:
        return False
    started = datetime.now().astimezone()
    cfn.delete_stack(StackName=name)
    final = _wait(cfn, name, poll, out)
    if final["StackStatus"] != "DELETE_COMPLETE":
        raise StackError(f"destroy failed: {first_failure(cfn, name, started)}; the stack is {final['StackStatus']}")
    return True
