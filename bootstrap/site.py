"""The S3 bucket that serves the static site: public read of objects only, never public write."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from bootstrap.errors import StackError
from bootstrap.target import ROOT, Target

FRONTEND_DIR = ROOT / "frontend"
COGNITO_SDK = ROOT / "node_modules" / "amazon-cognito-identity-js" / "dist" / "amazon-cognito-identity.min.js"
_SKIPPED_SUFFIXES = {".md"}
_NO_CACHE = "no-cache"  # pages and config change with every deploy; the browser must revalidate


def public_read_policy(bucket: str) -> dict:
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
    # A public-read bucket policy is refused while the public access block is on.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    try:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket)))
    except ClientError as error:
        raise StackError(f"cannot make {bucket} publicly readable (account-level Block Public Access?): {error}") \
            from error
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "index.html"}})


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
