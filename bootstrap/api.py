"""REST API `testproject`: /album with one Lambda per method behind a Cognito authorizer, CORS, a deployed stage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from bootstrap import resources as r
from bootstrap.target import Client, Target

_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "'*'",
    "Access-Control-Allow-Headers": f"'{r.ALLOWED_HEADERS}'",
    "Access-Control-Allow-Methods": f"'{r.ALLOWED_METHODS}'",
}


def find_api(apigw: Client) -> dict[str, Any] | None:
    for page in apigw.get_paginator("get_rest_apis").paginate():
        api: dict[str, Any]
        for api in page["items"]:
            if api["name"] == r.REST_API:
                return api
    return None


def ensure_api(target: Target, pool_arn: str, function_arns: Mapping[str, str]) -> tuple[str, bool]:
    """Returns (API id, changed). A new deployment is made only when something changed or no stage exists."""
    apigw = target.client("apigateway")
    api = find_api(apigw)
    changed = api is None
    if api is None:
        api = apigw.create_rest_api(name=r.REST_API, description="Albums API",
                                    endpointConfiguration={"types": ["REGIONAL"]})
    api_id = api["id"]
    resource_id, created = _ensure_resource(apigw, api_id)
    changed |= created
    authorizer_id, created = _ensure_authorizer(apigw, api_id, pool_arn)
    changed |= created
    for method, function_arn in function_arns.items():
        changed |= _ensure_lambda_method(apigw, target, api_id, resource_id, method, authorizer_id, function_arn)
    changed |= _ensure_preflight(apigw, api_id, resource_id)
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        changed |= _ensure_gateway_response(apigw, api_id, response_type)
    if changed or not _stage_exists(apigw, api_id, target.stage):
        # Gateway responses and method changes take effect only with a new deployment.
        apigw.create_deployment(restApiId=api_id, stageName=target.stage, description="bootstrap")
        changed = True
    return api_id, changed


def _ensure_resource(apigw: Client, api_id: str) -> tuple[str, bool]:
    resources = apigw.get_resources(restApiId=api_id, limit=500)["items"]
    for resource in resources:
        if resource["path"] == f"/{r.RESOURCE_PATH}":
            return resource["id"], False
    root = next(res["id"] for res in resources if res["path"] == "/")
    return apigw.create_resource(restApiId=api_id, parentId=root, pathPart=r.RESOURCE_PATH)["id"], True


def _ensure_authorizer(apigw: Client, api_id: str, pool_arn: str) -> tuple[str, bool]:
    for authorizer in apigw.get_authorizers(restApiId=api_id)["items"]:
        if authorizer["name"] == r.AUTHORIZER:
            if authorizer.get("providerARNs") == [pool_arn]:
                return authorizer["id"], False
            # The pool was recreated. providerARNs is a set, patched by ARN (`/providerARNs/0` is refused).
            patches = [{"op": "add", "path": f"/providerARNs/{pool_arn}"}] + [
                {"op": "remove", "path": f"/providerARNs/{old}"} for old in authorizer.get("providerARNs", [])]
            apigw.update_authorizer(restApiId=api_id, authorizerId=authorizer["id"], patchOperations=patches)
            return authorizer["id"], True
    created = apigw.create_authorizer(restApiId=api_id, name=r.AUTHORIZER, type="COGNITO_USER_POOLS",
                                      providerARNs=[pool_arn], identitySource="method.request.header.Authorization")
    return created["id"], True


def _get_method(apigw: Client, api_id: str, resource_id: str, method: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = apigw.get_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
        return found
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotFoundException":
            raise
        return None


def _ensure_lambda_method(apigw: Client, target: Target, api_id: str, resource_id: str, method: str, authorizer_id: str,
                          function_arn: str) -> bool:
    uri = f"arn:aws:apigateway:{target.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    current = _get_method(apigw, api_id, resource_id, method)
    if (current and current.get("authorizationType") == "COGNITO_USER_POOLS"
            and current.get("authorizerId") == authorizer_id
            and current.get("methodIntegration", {}).get("uri") == uri):
        return False
    if current:
        apigw.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                     authorizationType="COGNITO_USER_POOLS", authorizerId=authorizer_id,
                     requestParameters={"method.request.header.Authorization": True})
    # Lambda proxy: the function builds the whole response, CORS headers included.
    apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=uri)
    return True


def _ensure_preflight(apigw: Client, api_id: str, resource_id: str) -> bool:
    """OPTIONS answers CORS preflight without a token (browsers never send one), so it must be unauthorized."""
    current = _get_method(apigw, api_id, resource_id, "OPTIONS")
    integration = (current or {}).get("methodIntegration", {})
    if integration.get("type") == "MOCK" and "200" in integration.get("integrationResponses", {}):
        return False
    if current:  # half made by an interrupted run: every later create_deployment would fail on it
        apigw.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod="OPTIONS")
    params = {f"method.response.header.{name}": False for name in _CORS_HEADERS}
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod="OPTIONS", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod="OPTIONS", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api_id, resourceId=resource_id, httpMethod="OPTIONS", statusCode="200",
                              responseParameters=params, responseModels={"application/json": "Empty"})
    apigw.put_integration_response(
        restApiId=api_id, resourceId=resource_id, httpMethod="OPTIONS", statusCode="200",
        responseParameters={f"method.response.header.{name}": value for name, value in _CORS_HEADERS.items()},
        responseTemplates={"application/json": ""})
    return True


def _ensure_gateway_response(apigw: Client, api_id: str, response_type: str) -> bool:
    """Errors made by API Gateway itself (401 from the authorizer, 403, 5xx) also carry CORS headers, so a browser
    can read them."""
    wanted = {f"gatewayresponse.header.{name}": value for name, value in _CORS_HEADERS.items()}
    try:
        current = apigw.get_gateway_response(restApiId=api_id, responseType=response_type)
        if current.get("responseParameters") == wanted:
            return False
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotFoundException":
            raise
    apigw.put_gateway_response(restApiId=api_id, responseType=response_type, responseParameters=wanted)
    return True


def _stage_exists(apigw: Client, api_id: str, stage: str) -> bool:
    try:
        apigw.get_stage(restApiId=api_id, stageName=stage)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotFoundException":
            raise
        return False


def execute_arn(target: Target, account_id: str, api_id: str) -> str:
    return f"arn:aws:execute-api:{target.region}:{account_id}:{api_id}/*/*/{r.RESOURCE_PATH}"


def destroy(target: Target) -> None:
    apigw = target.client("apigateway")
    api = find_api(apigw)
    if api is not None:
        apigw.delete_rest_api(restApiId=api["id"])
