"""How the site is served, per target: HTTPS through CloudFront on AWS unless SITE=s3-website (which warns), the
bucket itself on the emulators, and the one origin the API allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap import stack
from bootstrap.errors import StackError
from bootstrap.target import Target

AWS = Target("aws", "eu-west-1", None, Path("/nonexistent"))
LOCAL = Target("local", "us-east-1", "http://127.0.0.1:4599", Path("/nonexistent"))


@pytest.fixture(autouse=True)
def _no_site_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SITE", "BUCKET_NAME", "PASSWORD_AUTH"):
        monkeypatch.delenv(name, raising=False)


def test_aws_gets_https_through_cloudfront_by_default() -> None:
    assert stack.parameters(AWS) == {"SiteBucketName": "", "Site": "cloudfront", "SiteOrigin": "",
                                     "PasswordAuth": "false", "NewUsersAreEditors": "false"}
    assert stack.site_warning(AWS) is None


def test_the_s3_website_on_aws_is_asked_for_and_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE", "s3-website")
    assert stack.parameters(AWS)["Site"] == "s3-website"
    warning = stack.site_warning(AWS)
    assert warning is not None and "plain HTTP" in warning


def test_an_unknown_site_kind_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE", "ftp")
    with pytest.raises(StackError, match="choose cloudfront"):
        stack.parameters(AWS)


def test_emulators_serve_the_bucket_and_allow_their_own_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE", "cloudfront")  # MiniStack stores a distribution but does not serve it
    assert stack.parameters(LOCAL) == {"SiteBucketName": "testprotest", "Site": "s3-website",
                                       "SiteOrigin": "http://127.0.0.1:4599", "PasswordAuth": "true",
                                       "NewUsersAreEditors": "true"}
    assert stack.site_warning(LOCAL) is None
