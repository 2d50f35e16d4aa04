"""The static site's files (uploaded after each deploy, with the stack's config.js) and the buckets the bootstrap
handles itself: the private one CloudFormation reads the function zip from."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from bootstrap.errors import StackError
from bootstrap.target import ROOT, Client, Target

FRONTEND_DIR = ROOT / "frontend"
COGNITO_SDK = ROOT / "node_modules" / "amazon-cognito-identity-js" / "dist" / "amazon-cognito-identity.min.js"
# The account page draws the authenticator app's QR code with it (an ES module: imported, never a global).
QR_CODE = ROOT / "node_modules" / "qrcode-generator" / "dist" / "qrcode.mjs"
_SKIPPED_SUFFIXES = {".md"}
_NO_CACHE = "no-cache"  # pages and config change with every deploy; the browser must revalidate


def bucket_exists(s3: Client, bucket: str) -> bool:
    """True when the name is taken, by us or (403 on AWS, where names are global) by anybody."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] in {"404", "NoSuchBucket", "NotFound"}:
            return False
        if error.response["Error"]["Code"] in {"403", "AccessDenied", "Forbidden"}:
            return True
        raise
    return True


# Nothing in the code bucket is public, ever.
PRIVATE = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def ensure_private_bucket(target: Target, bucket: str) -> None:
    """The bucket CloudFormation reads the function zip from (as `sam deploy --s3-bucket`): made once, private."""
    s3 = target.client("s3")
    if bucket_exists(s3, bucket):
        return
    location = {} if target.region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": target.region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PRIVATE)


def object_exists(s3: Client, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"404", "NoSuchKey", "NotFound"}:
            raise
        return False
    return True


def site_files(config_js: str, connect_src: str) -> dict[str, tuple[bytes, str]]:
    """Key -> (body, content type) for everything the site serves."""
    for vendored in (COGNITO_SDK, QR_CODE):
        if not vendored.exists():
            raise StackError(f"{vendored.relative_to(ROOT)} is missing: run `npm ci` (make up does it)")
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
    files["vendor/qrcode.mjs"] = (QR_CODE.read_bytes(), "text/javascript; charset=utf-8")
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


def empty(s3: Client, bucket: str) -> None:
    """Delete every object (CloudFormation deletes only an empty bucket; MiniStack would delete a full one)."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"NoSuchBucket", "404"}:
            raise


def delete_bucket(s3: Client, bucket: str) -> None:
    empty(s3, bucket)
    try:
        s3.delete_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"NoSuchBucket", "404"}:
            raise
