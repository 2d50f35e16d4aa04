"""Where the stack goes: the embedded MiniStack, LocalStack, or real AWS. The ONLY differences are here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeAlias

import boto3
from botocore.config import Config

from bootstrap.access import session, stack_dir
from bootstrap.errors import StackError
from bootstrap.server_protocol import origin

ROOT = Path(__file__).resolve().parent.parent
# A boto3 client: botocore builds each service's methods at run time, and no stubs are installed, so no static type.
Client: TypeAlias = Any
# S3 website endpoints are "s3-website-<region>" only in the nine oldest regions; every later region (us-east-2,
# eu-central-1, ...) has only "s3-website.<region>" (AWS general reference, "Amazon S3 website endpoints").
_DASH_WEBSITE_REGIONS = frozenset({"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-northeast-1",
                                   "ap-southeast-1", "ap-southeast-2", "sa-east-1", "us-gov-west-1"})


@dataclass(frozen=True)
class Target:
    name: str  # local | docker | localstack | aws
    region: str
    endpoint: str | None  # None on AWS
    stack_dir: Path
    stage: str = "prod"

    @property
    def local(self) -> bool:
        return self.endpoint is not None

    @property
    def outputs_file(self) -> Path:
        return self.stack_dir / "outputs.json"

    @cached_property
    def session(self) -> boto3.session.Session:
        return session(self.region, local=self.local)

    @cached_property
    def account(self) -> str:
        account: str = self.client("sts").get_caller_identity()["Account"]
        return account

    @cached_property
    def _clients(self) -> dict[str, Client]:
        return {}

    def client(self, service: str) -> Client:
        """One client per service for this target (creating one costs ~25 ms; a deploy asks ~40 times)."""
        if service not in self._clients:
            config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint, config=config)
        return self._clients[service]

    def api_url(self, api_id: str) -> str:
        if self.local:
            return f"{self.endpoint}/_aws/execute-api/{api_id}/{self.stage}"
        return f"https://{api_id}.execute-api.{self.region}.amazonaws.com/{self.stage}"

    def website_url(self, bucket: str) -> str:
        # Emulators store the website configuration but do not serve it: open the page by path.
        if self.local:
            return f"{self.endpoint}/{bucket}/index.html"
        separator = "-" if self.region in _DASH_WEBSITE_REGIONS else "."
        return f"http://{bucket}.s3-website{separator}{self.region}.amazonaws.com/"

    def mailbox_url(self) -> str | None:
        return f"{self.endpoint}/_ministack/ses/messages" if self.name in {"local", "docker"} else None


def password_auth(target: Target) -> bool:
    """USER_PASSWORD_AUTH sends the password itself (over TLS) instead of SRP's proof; Postman and the integration
    tests sign in with it, the site never does (SRP only). So it is on for the emulators and off on AWS unless asked
    for with PASSWORD_AUTH=1."""
    default = "1" if target.local else "0"
    return os.environ.get("PASSWORD_AUTH", default) == "1"


def aws_stack_dir() -> Path:
    """AWS outputs and build files live apart from the emulators': `make reset` or `make status` of the local stack
    never touch (or show) the record of what is deployed, and billing, on AWS."""
    return Path(os.environ.get("AWS_STACK_DIR", ROOT / ".stack-aws")).resolve()


def aws_region() -> str:
    """The region boto3 itself would use: AWS_REGION / AWS_DEFAULT_REGION, else the profile's `region`. Never a
    default: deploying or destroying in a region the user did not choose finds (or makes) the wrong stack."""
    # botocore itself reads AWS_DEFAULT_REGION and the profile, not AWS_REGION
    region = os.environ.get("AWS_REGION") or boto3.session.Session().region_name
    if not region:
        raise StackError("no AWS region: set AWS_REGION or a region in your profile (aws configure); "
                         "nothing was changed")
    return region


def port() -> int:
    return int(os.environ.get("PORT", "4566"))


def resolve(name: str) -> Target:
    if name == "aws":
        return Target("aws", aws_region(), None, aws_stack_dir())
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if name in ("local", "docker"):  # docker: our MiniStack server in a container, started by docker-compose.yml
        return Target(name, region, origin(port()), stack_dir())
    if name == "localstack":
        # docker-compose.yml publishes it where it publishes MiniStack (PORT); LOCALSTACK_ENDPOINT for any other
        return Target("localstack", region, os.environ.get("LOCALSTACK_ENDPOINT") or origin(port()), stack_dir())
    raise ValueError(f"unknown target {name!r}: choose local, docker, localstack or aws")
