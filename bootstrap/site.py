"""The S3 bucket that serves the static site: public read of objects only, never public write."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from bootstrap.errors import StackError
from bootstrap.target import ROOT, Client, Target

FRONTEND_DIR = ROOT / "frontend"
COGNITO_SDK = ROOT / "node_modules" / "amazon-cognito-identity-js" / "dist" / "amazon-cognito-identity.min.js"
_SKIPPED_SUFFIXES = {".md"}
_NO_CACHE = "no-cache"  # pages and config change with every deploy; the browser must revalidate


def public_read_policy(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicReadOfSiteObjects",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",  # read only: the original's public PutObject let anyone deface the site
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }],
    }


def ensure_bucket(target: Target, bucket: str) -> None:
    s3 = target.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"404", "NoSuchBucket", "NotFound"}:
            raise StackError(f"bucket {bucket} exists but is not ours (set BUCKET_NAME): {error}") from error
        location = {} if target.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": target.region}}
        s3.create_bucket(Bucket=bucket, **location)
    _allow_public_policy(s3, bucket)
    policy = json.dumps(public_read_policy(bucket))
    if _bucket_policy(s3, bucket) != json.loads(policy):
        _put_public_read_policy(s3, bucket, policy)
    website = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "index.html"}}
    if _bucket_website(s3, bucket) != website:
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=website)


# Only public ACLs stay blocked: the site is public through the bucket policy alone.
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                       "RestrictPublicBuckets": False}
# After the bucket's public access block is relaxed, AWS may refuse a public policy (AccessDenied) until the change
# has propagated; an account-level block refuses it for good.
POLICY_PROPAGATION_SECONDS = 60
_POLICY_RETRY_INTERVAL = 5


def _allow_public_policy(s3: Client, bucket: str) -> None:
    """A new bucket blocks all public access (AWS's default since 2023): a public-read policy is refused until the
    block is relaxed. Changed only when it differs, so a re-deploy waits for no propagation."""
    try:
        current = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = None
    if current != PUBLIC_ACCESS_BLOCK:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)


def _bucket_policy(s3: Client, bucket: str) -> dict[str, Any] | None:
    try:
        policy: dict[str, Any] = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        return policy
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        return None


def _bucket_website(s3: Client, bucket: str) -> dict[str, Any] | None:
    try:
        current = s3.get_bucket_website(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchWebsiteConfiguration":
            raise
        return None
    return {key: current[key] for key in ("IndexDocument", "ErrorDocument") if key in current}


def _put_public_read_policy(s3: Client, bucket: str, policy: str) -> None:
    waited = 0
    while True:
        try:
            s3.put_bucket_policy(Bucket=bucket, Policy=policy)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "AccessDenied":
                raise
            if waited >= POLICY_PROPAGATION_SECONDS:
                raise StackError(f"cannot make {bucket} publicly readable: still AccessDenied {waited} s after "
                                 "relaxing its public access block. Is Block Public Access on for the account? "
                                 "(aws s3control get-public-access-block --account-id <id>)") from error
            time.sleep(_POLICY_RETRY_INTERVAL)
            waited += _POLICY_RETRY_INTERVAL


def site_files(config_js: str, connect_src: str) -> dict[str, tuple[bytes, str]]:
    """Key -> (body, content type) for everything the site serves."""
    if not COGNITO_SDK.exists():
        raise StackError(f"{COGNITO_SDK.relative_to(ROOT)} is missing: run `npm ci` (make up does it)")
    files: dict[str, tuple[bytes, str]] = {}
    for path in sorted(FRONTEND_DIR.rglob("*")):
        if not path.is_file() or path.suffix in _SKIPPED_SUFFIXES:
            continue
        key = path.relative_to(FRONTEND_DIR).as_posix()
        body = path.read_bytes()
        if path.suffix == ".html":
            body = body.replace(b"{{CONNECT_SRC}}", connect_src.encode())
        files[key] = (body, _content_type(path))
    files["vendor/amazon-cognito-identity.min.js"] = (COGNITO_SDK.read_bytes(), "text/javascript; charset=utf-8")
    files["config.js"] = (config_js.encode(), "text/javascript; charset=utf-8")
    return files


def _content_type(path: Path) -> str:
    guessed = {".js": "text/javascript", ".mjs": "text/javascript", ".svg": "image/svg+xml"}.get(path.suffix) or \
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else guessed


def upload(target: Target, bucket: str, files: dict[str, tuple[bytes, str]]) -> int:
    """Upload what changed (compared by MD5/ETag), delete what the site no longer has. Returns objects written."""
    s3 = target.client("s3")
    existing: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        existing.update({obj["Key"]: obj["ETag"].strip('"') for obj in page.get("Contents", [])})
    written = 0
    for key, (body, content_type) in files.items():
        if existing.get(key) == hashlib.md5(body, usedforsecurity=False).hexdigest():
            continue
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl=_NO_CACHE)
        written += 1
    stale = [{"Key": key} for key in existing if key not in files]
    if stale:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale})
    return written


def connect_sources(target: Target, api_url: str) -> str:
    """Origins the pages may call (the CSP's connect-src): the API and Cognito."""
    if target.local:
        return " ".join(sorted({_origin(target.endpoint or ""), _origin(api_url)}))
    return f"{_origin(api_url)} https://cognito-idp.{target.region}.amazonaws.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def destroy(target: Target, bucket: str) -> None:
    s3 = target.client("s3")
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        s3.delete_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"NoSuchBucket", "404"}:
            raise
