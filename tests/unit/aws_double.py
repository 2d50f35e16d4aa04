"""An eventually-consistent AWS for the bootstrap's tests: moto, plus botocore event hooks that replay what AWS
documents and moto (instantly consistent) never does.

Time is virtual: `Clock.sleep` replaces `time.sleep` (the bootstrap's retries, botocore's waiters and its retry
back-off all sleep through it), so "a new role is not assumable for 45 s" costs no real time. The behaviours:

- IAM: a new role cannot be assumed by Lambda for `role_delay` s (CreateFunction: InvalidParameterValueException).
- Lambda: a new function is Pending, an updated one InProgress, for `function_delay` s; updates meanwhile are refused
  (ResourceConflictException). A second AddPermission with the same statement id is refused (moto appends it).
- S3: a new bucket blocks all public access (AWS's default since 2023); after the block is relaxed, PutBucketPolicy
  gets AccessDenied for `policy_delay` s; with `account_blocks_public_policy` it always does.
- DynamoDB: a new table is CREATING, a deleted one DELETING (same name refused), for `table_delay` s; a new index is
  CREATING for `index_delay` s.
- API Gateway: every `throttle_every`-th request is throttled (429 TooManyRequestsException, retried by botocore);
  UpdateAuthorizer patches providerARNs only in the documented add/remove-by-ARN form (moto implements neither).
- `interrupt_each_kind_of_write`: the process "dies" (`Interrupted`) just before the first write of each kind
  (service, operation, HTTP method for API Gateway methods), one kind per run.

`calls` records every (service, operation) the bootstrap made: the deployer policy test derives IAM actions from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.apigateway.models import apigateway_backends
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.botocore_stubber import MockRawResponse

_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Scan", "Query")
Response = tuple[Any, dict[str, Any]]


class Interrupted(BaseException):
    """Raised instead of the n-th mutating call: not an error, the deploying process stops there (Ctrl-C, crash)."""


@dataclass
class Clock:
    now: float = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


SERVICES = ("cognito-idp", "dynamodb", "lambda", "iam", "apigateway", "s3", "logs")


def forget_region(region: str) -> None:
    """Empty moto's backends for `region` (and the global IAM and S3). An enclosing `mock_aws` of another fixture (the
    unit tests' session table) keeps moto's state across nested mocks; other regions are left alone."""
    for service in SERVICES:
        backends = get_backend(service)[DEFAULT_ACCOUNT_ID]  # type: ignore[call-overload]
        for key in (region, "aws"):
            if key in backends.keys():  # noqa: SIM118 -- `in backends` is true for every region moto knows
                backends[key].reset()


def _error(code: str, message: str, status: int = 400) -> Response:
    return SimpleNamespace(status_code=status, headers={}), {
        "Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


def _ok(body: dict[str, Any]) -> Response:
    return SimpleNamespace(status_code=200, headers={}), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


@dataclass
class AwsDouble:
    session: boto3.session.Session
    clock: Clock
    role_delay: float = 45.0  # longer than the ~18 s the bootstrap used to wait
    function_delay: float = 5.0
    policy_delay: float = 20.0
    table_delay: float = 15.0
    index_delay: float = 60.0
    throttle_every: int = 4
    account_blocks_public_policy: bool = False
    interrupt_each_kind_of_write: bool = False
    interrupted: list[tuple[str, str, str]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    mutations: int = 0
    throttled: int = 0
    _requests: int = 0
    _ready_at: dict[tuple[str, str], float] = field(default_factory=dict)  # (kind, name) -> when it settles
    _function_state: dict[str, str] = field(default_factory=dict)  # name -> "Pending" | "InProgress"
    _deleted_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    _backdoor_clients: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Reads moto's state directly, without these hooks.
        self.backdoor = boto3.session.Session(region_name=self.session.region_name)
        events = self.session.events
        events.register("before-parameter-build", self._keep_params)
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)
        # botocore calls every before-send handler and uses the first answer: ours runs ahead of moto's stubber and,
        # to keep moto from carrying out a throttled request, hides its URL from it until the last handler.
        events.register_first("before-send", self._before_send)
        events.register_last("before-send", self._after_send)

    def client(self, service: str) -> Any:
        if service not in self._backdoor_clients:
            self._backdoor_clients[service] = self.backdoor.client(service)
        return self._backdoor_clients[service]

    def leave_function(self, name: str, state: str) -> None:
        """As a run that died right after creating ("Pending") or updating ("InProgress") the function leaves it."""
        self._function_state[name] = state
        self._settle_later("function", name, self.function_delay)

    def _settling(self, kind: str, name: str) -> bool:
        return self.clock.now < self._ready_at.get((kind, name), float("-inf"))

    def _settle_later(self, kind: str, name: str, delay: float) -> None:
        self._ready_at[(kind, name)] = self.clock.now + delay

    # --- hooks -----------------------------------------------------------------------------------------------------

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["double_params"] = dict(params)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if ".execute-api." in request.url or "apigateway." not in request.url:
            return None
        self._requests += 1
        if self._requests % self.throttle_every:
            return None
        self.throttled += 1
        request.double_url, request.url = request.url, "https://throttled.invalid/"
        return AWSResponse(request.url, 429, {"x-amzn-errortype": "TooManyRequestsException"},
                           MockRawResponse(b'{"message": "Too Many Requests"}'))

    @staticmethod
    def _after_send(request: Any, **_: Any) -> None:
        if hasattr(request, "double_url"):
            request.url = request.__dict__.pop("double_url")  # the retry is sent to the real URL again

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> Response | None:
        service, operation = model.service_model.service_name, model.name
        self.calls.append((service, operation))
        params = context.get("double_params", {})
        if service != "sts" and not operation.startswith(_READ_PREFIXES):
            self.mutations += 1
            kind = (service, operation, params.get("httpMethod", ""))
            if self.interrupt_each_kind_of_write and kind not in self.interrupted:
                self.interrupted.append(kind)
                raise Interrupted(":".join(kind))
        rule = getattr(self, f"_before_{service.replace('-', '_')}_{operation}", None)
        return rule(params) if rule else None

    def _after_call(self, model: Any, http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
                    **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        service, operation = model.service_model.service_name, model.name
        rule = getattr(self, f"_after_{service.replace('-', '_')}_{operation}", None)
        if rule:
            rule(context.get("double_params", {}), parsed)

    # --- IAM and Lambda -------------------------------------------------------------------------------------------

    def _after_iam_CreateRole(self, params: dict, parsed: dict) -> None:
        self._settle_later("role", parsed["Role"]["Arn"], self.role_delay)

    def _before_lambda_CreateFunction(self, params: dict) -> Response | None:
        if self._settling("role", params["Role"]):
            return _error("InvalidParameterValueException",
                          "The role defined for the function cannot be assumed by Lambda.")
        return None

    def _after_lambda_CreateFunction(self, params: dict, parsed: dict) -> None:
        self._function_state[params["FunctionName"]] = "Pending"
        self._settle_later("function", params["FunctionName"], self.function_delay)

    def _before_lambda_UpdateFunctionCode(self, params: dict) -> Response | None:
        if self._settling("function", params["FunctionName"]):
            return _error("ResourceConflictException", "The operation cannot be performed at this time. An update "
                          f"is in progress for resource: {params['FunctionName']}", 409)
        return None

    _before_lambda_UpdateFunctionConfiguration = _before_lambda_UpdateFunctionCode

    def _after_lambda_UpdateFunctionCode(self, params: dict, parsed: dict) -> None:
        self._function_state[params["FunctionName"]] = "InProgress"
        self._settle_later("function", params["FunctionName"], self.function_delay)

    _after_lambda_UpdateFunctionConfiguration = _after_lambda_UpdateFunctionCode

    def _after_lambda_GetFunctionConfiguration(self, params: dict, parsed: dict) -> None:
        name = params["FunctionName"]
        if self._settling("function", name):
            if self._function_state[name] == "Pending":
                parsed["State"] = "Pending"
            else:
                parsed["LastUpdateStatus"] = "InProgress"

    def _after_lambda_GetFunction(self, params: dict, parsed: dict) -> None:
        self._after_lambda_GetFunctionConfiguration(params, parsed["Configuration"])

    def _before_lambda_AddPermission(self, params: dict) -> Response | None:
        try:
            policy = json.loads(self.client("lambda").get_policy(FunctionName=params["FunctionName"])["Policy"])
        except self.client("lambda").exceptions.ResourceNotFoundException:
            return None
        if any(s.get("Sid") == params["StatementId"] for s in policy["Statement"]):
            return _error("ResourceConflictException", f"The statement id ({params['StatementId']}) provided "
                          "already exists. Please provide a new statement id, or remove the existing statement.", 409)
        return None

    # --- S3 -------------------------------------------------------------------------------------------------------

    def _after_s3_CreateBucket(self, params: dict, parsed: dict) -> None:
        self.client("s3").put_public_access_block(Bucket=params["Bucket"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})

    def _after_s3_PutPublicAccessBlock(self, params: dict, parsed: dict) -> None:
        self._settle_later("bucket-block", params["Bucket"], self.policy_delay)

    def _before_s3_PutBucketPolicy(self, params: dict) -> Response | None:
        bucket = params["Bucket"]
        block = self.client("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if self.account_blocks_public_policy or block["BlockPublicPolicy"] or self._settling("bucket-block", bucket):
            return _error("AccessDenied", "Access Denied", 403)
        return None

    # --- DynamoDB -------------------------------------------------------------------------------------------------

    def _after_dynamodb_CreateTable(self, params: dict, parsed: dict) -> None:
        self._settle_later("table", params["TableName"], self.table_delay)

    def _after_dynamodb_UpdateTable(self, params: dict, parsed: dict) -> None:
        for update in params.get("GlobalSecondaryIndexUpdates", []):
            if "Create" in update:
                self._settle_later("index", update["Create"]["IndexName"], self.index_delay)

    def _after_dynamodb_DeleteTable(self, params: dict, parsed: dict) -> None:
        # moto forgets the table at once; AWS shows it DELETING (and refuses its name) for a while.
        self._deleted_tables[params["TableName"]] = parsed["TableDescription"]
        self._settle_later("table-deleting", params["TableName"], self.table_delay)

    def _before_dynamodb_DescribeTable(self, params: dict) -> Response | None:
        name = params["TableName"]
        if self._settling("table-deleting", name):
            return _ok({"Table": {**self._deleted_tables[name], "TableStatus": "DELETING"}})
        return None

    def _before_dynamodb_CreateTable(self, params: dict) -> Response | None:
        if self._settling("table-deleting", params["TableName"]):
            return _error("ResourceInUseException", f"Attempt to change a resource which is still in use: Table is "
                          f"being deleted: {params['TableName']}")
        return None

    def _after_dynamodb_DescribeTable(self, params: dict, parsed: dict) -> None:
        table = parsed["Table"]
        if table.get("TableStatus") == "DELETING":
            return
        if self._settling("table", params["TableName"]):
            table["TableStatus"] = "CREATING"
        for index in table.get("GlobalSecondaryIndexes", []):
            if self._settling("index", index["IndexName"]):
                index["IndexStatus"] = "CREATING"
                index["Backfilling"] = True

    # --- API Gateway ----------------------------------------------------------------------------------------------

    def _before_apigateway_UpdateAuthorizer(self, params: dict) -> Response:
        """providerARNs is a set, patched by ARN: op add|remove, path /providerARNs/{arn}."""
        authorizer = apigateway_backends[DEFAULT_ACCOUNT_ID][self.session.region_name].get_authorizer(
            params["restApiId"], params["authorizerId"])
        arns = list(authorizer.provider_arns or [])
        for patch in params.get("patchOperations", []):
            arn = patch["path"].removeprefix("/providerARNs/")
            if arn == patch["path"] or arn.isdigit() or patch["op"] not in {"add", "remove"}:
                return _error("BadRequestException", f"Invalid patch path '{patch['path']}' specified for op "
                              f"'{patch['op']}'. Must be one of: [/providerARNs/{{arn}}] (add, remove)")
            if patch["op"] == "add" and arn not in arns:
                arns.append(arn)
            elif patch["op"] == "remove" and arn in arns:
                arns.remove(arn)
        authorizer.provider_arns = arns
        return _ok(authorizer.to_json())


# The Albums table has no secondary index today (listings read the catalog); the bootstrap still adds an index that a
# newer definition names to a table made before it. Scenarios of that path use this definition.
INDEX_FOR_SCENARIOS = {
    "IndexName": "ByYear",
    "KeySchema": [{"AttributeName": "Year", "KeyType": "HASH"}, {"AttributeName": "Rank", "KeyType": "RANGE"}],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
}


def with_an_index(definition: dict) -> dict:
    """`definition` plus INDEX_FOR_SCENARIOS (and its key attribute)."""
    return {
        **definition,
        "AttributeDefinitions": [*definition["AttributeDefinitions"], {"AttributeName": "Year", "AttributeType": "N"}],
        "GlobalSecondaryIndexes": [*definition.get("GlobalSecondaryIndexes", []), INDEX_FOR_SCENARIOS],
    }
