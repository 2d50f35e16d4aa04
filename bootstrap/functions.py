"""The four Lambda functions: one self-contained zip of the `albums` package, one least-privilege role each."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import py_compile
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from bootstrap import resources as r
from bootstrap.target import ROOT, Client, Target

PACKAGE_DIR = ROOT / "lambdas" / "albums"
REQUIREMENTS = ROOT / "lambdas" / "requirements.txt"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same source gives the same zip, so re-runs change nothing

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def build_zip(build_dir: Path) -> bytes:
    """Zip the `albums` package with its third-party requirements and compiled bytecode.

    Bytecode is compiled with unchecked-hash invalidation: the zip's extraction gives every file a new mtime, which
    would invalidate timestamp-based .pyc, and workers run with PYTHONDONTWRITEBYTECODE, so every cold start would
    recompile. The .pyc matches the local interpreter (the emulator's); other runtimes simply ignore it.
    """
    staging = build_dir / "function"
    if staging.exists():
        subprocess.run(["rm", "-rf", str(staging)], check=True)
    staging.mkdir(parents=True)
    if REQUIREMENTS.exists() and _requirements(REQUIREMENTS):
        subprocess.run(pip_install_command(staging), check=True)
    for source in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in source.parts:
            continue
        dest = staging / "albums" / source.relative_to(PACKAGE_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(source.read_bytes())
    for source in sorted(staging.rglob("*.py")):
        py_compile.compile(str(source), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(staging)), _ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    (build_dir / "albums-function.zip").write_bytes(data)
    return data


def pip_install_command(staging: Path) -> list[str]:
    """Wheels for the Lambda runtime (Linux x86_64, the runtime's CPython), not for whatever machine deploys."""
    python_version = r.LAMBDA_RUNTIME.removeprefix("python")
    return [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--only-binary=:all:",
            "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", python_version,
            "--target", str(staging), "-r", str(REQUIREMENTS)]


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def role_policy(function: r.Function, table_arn: str) -> dict[str, Any]:
    statements = [
        {"Effect": "Allow", "Action": list(function.table_actions), "Resource": table_arn},
        {
            # The bootstrap creates the log group (with a retention): the function only writes to it.
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:*:*:log-group:{log_group(function)}:*",
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


LOG_RETENTION_DAYS = 14


def log_group(function: r.Function) -> str:
    return f"/aws/lambda/{function.name}"


def ensure_log_group(target: Target, function: r.Function) -> None:
    """Made here rather than by Lambda on first use, so that logs expire and `destroy` can remove them."""
    logs, name = target.client("logs"), log_group(function)
    found = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
    if not found:
        logs.create_log_group(logGroupName=name)
    if not found or found[0].get("retentionInDays") != LOG_RETENTION_DAYS:
        logs.put_retention_policy(logGroupName=name, retentionInDays=LOG_RETENTION_DAYS)


ROLE_POLICY = "albums-table-access"


def ensure_role(target: Target, function: r.Function, table_arn: str) -> tuple[str, bool]:
    """Returns (role ARN, created now)."""
    iam = target.client("iam")
    role_name = f"{function.name}-role"
    created = False
    try:
        arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                              Description=f"Least privilege for {function.name}")["Role"]["Arn"]
        created = True
    wanted = role_policy(function, table_arn)
    try:
        current = iam.get_role_policy(RoleName=role_name, PolicyName=ROLE_POLICY)["PolicyDocument"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        current = None
    if current != wanted:  # put_role_policy replaces the inline policy: the same call creates and reconciles it
        iam.put_role_policy(RoleName=role_name, PolicyName=ROLE_POLICY, PolicyDocument=json.dumps(wanted))
    return arn, created


def ensure_function(target: Target, function: r.Function, role_arn: str, code: bytes,
                    environment: dict[str, str]) -> tuple[str, bool]:
    """Create or update one function. Returns (function ARN, changed)."""
    lam = target.client("lambda")
    config = {
        "Role": role_arn,
        "Handler": function.handler,
        "Runtime": r.LAMBDA_RUNTIME,
        "Timeout": r.LAMBDA_TIMEOUT,
        "MemorySize": r.LAMBDA_MEMORY,
        "Environment": {"Variables": environment},
    }
    try:
        current = lam.get_function_configuration(FunctionName=function.name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        arn = _create_function(lam, function, config, code)
        lam.get_waiter("function_active_v2").wait(FunctionName=function.name)
        return arn, True
    changed = False
    # Left Pending or InProgress by an interrupted run: AWS refuses updates (ResourceConflictException) until then.
    if current.get("State") == "Pending":
        lam.get_waiter("function_active_v2").wait(FunctionName=function.name)
    if current.get("LastUpdateStatus") == "InProgress":
        lam.get_waiter("function_updated_v2").wait(FunctionName=function.name)
    if current["CodeSha256"] != base64.b64encode(hashlib.sha256(code).digest()).decode():
        lam.update_function_code(FunctionName=function.name, ZipFile=code)
        lam.get_waiter("function_updated_v2").wait(FunctionName=function.name)
        changed = True
    if any(current.get(key) != value for key, value in config.items()):
        lam.update_function_configuration(FunctionName=function.name, **config)
        lam.get_waiter("function_updated_v2").wait(FunctionName=function.name)
        changed = True
    return current["FunctionArn"], changed


# A new IAM role becomes assumable by Lambda only after it has propagated: usually seconds, sometimes well over
# 15 s (Chalice raised its wait to 30 s after 15 s proved too short). Emulators accept it at once.
ROLE_PROPAGATION_SECONDS = 90
_ROLE_RETRY_INTERVAL = 3


def _create_function(lam: Client, function: r.Function, config: dict[str, Any], code: bytes) -> str:
    waited = 0
    while True:
        try:
            arn: str = lam.create_function(FunctionName=function.name, Code={"ZipFile": code}, **config)["FunctionArn"]
            return arn
        except ClientError as error:
            info = error.response["Error"]
            not_yet = info["Code"] == "InvalidParameterValueException" and "cannot be assumed" in info["Message"]
            if not not_yet or waited >= ROLE_PROPAGATION_SECONDS:
                raise
            time.sleep(_ROLE_RETRY_INTERVAL)
            waited += _ROLE_RETRY_INTERVAL


INVOKE_STATEMENT = "apigateway-invoke"


def allow_api_gateway(target: Target, function: r.Function, source_arn: str) -> None:
    """Let API Gateway (this API only) invoke the function: AWS checks this; the emulator does not, but it must be
    there. A statement left by an API that was since recreated names the old API and is replaced."""
    lam = target.client("lambda")
    current = _invoke_statement(lam, function)
    if current is not None:
        if current.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn") == source_arn:
            return
        lam.remove_permission(FunctionName=function.name, StatementId=INVOKE_STATEMENT)
    lam.add_permission(FunctionName=function.name, StatementId=INVOKE_STATEMENT, Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com", SourceArn=source_arn)


def _invoke_statement(lam: Client, function: r.Function) -> dict[str, Any] | None:
    try:
        policy: dict[str, Any] = json.loads(lam.get_policy(FunctionName=function.name)["Policy"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return None
    return next((s for s in policy.get("Statement", []) if s.get("Sid") == INVOKE_STATEMENT), None)


def destroy(target: Target) -> None:
    lam, iam, logs = target.client("lambda"), target.client("iam"), target.client("logs")
    for function in r.FUNCTIONS:
        _ignore_missing(lam.delete_function, FunctionName=function.name)
        _ignore_missing(logs.delete_log_group, logGroupName=log_group(function))
        role = f"{function.name}-role"
        _ignore_missing(iam.delete_role_policy, RoleName=role, PolicyName=ROLE_POLICY)
        _ignore_missing(iam.delete_role, RoleName=role)


def _ignore_missing(call: Callable[..., object], **arguments: str) -> None:
    """call(**arguments), where "already gone" is success."""
    try:
        call(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"ResourceNotFoundException", "NoSuchEntity", "NotFoundException"}:
            raise
