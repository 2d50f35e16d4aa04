"""What the template deployed, checked on the running stack: idempotent, public read only, least privilege."""

from __future__ import annotations

import json

import pytest
import requests

from bootstrap import stack, template
from bootstrap.target import resolve


@pytest.fixture(scope="module")
def local(stack: dict):
    return resolve("local")


def test_a_second_deploy_changes_nothing(local) -> None:
    lines: list[str] = []
    outputs, report = stack.deploy(local, out=lines.append)
    assert report.changes == [] and lines == []
    assert outputs["UserPoolId"] and outputs["ApiUrl"].endswith("/prod")


def test_the_site_is_publicly_readable_with_content_types(stack: dict) -> None:
    page = requests.get(stack["WebsiteUrl"], timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    base = stack["WebsiteUrl"].rsplit("/", 1)[0]
    config = requests.get(f"{base}/config.js", timeout=10)
    assert config.headers["Content-Type"].startswith("text/javascript")
    assert stack["UserPoolClientId"] in config.text


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_anonymous_writes_to_the_bucket_are_refused(stack: dict, method: str) -> None:
    base = stack["WebsiteUrl"].rsplit("/", 1)[0]
    response = requests.request(method, f"{base}/index.html", data=b"<h1>defaced</h1>", timeout=10)
    assert response.status_code == 403
    assert requests.get(stack["WebsiteUrl"], timeout=10).text != "<h1>defaced</h1>"


def test_each_function_may_do_only_its_own_job(local) -> None:
    iam = local.client("iam")
    allowed = {}
    for function in template.functions():
        document = iam.get_role_policy(RoleName=f"{function.name}-role", PolicyName="albums-table-access")
        policy = document["PolicyDocument"]
        policy = json.loads(policy) if isinstance(policy, str) else policy
        allowed[function.route] = {action for statement in policy["Statement"]
                                    for action in _as_list(statement["Action"]) if action.startswith("dynamodb:")}
    for reader in ("GET /album", "GET /album/stats"):
        assert allowed[reader] <= {"dynamodb:GetItem", "dynamodb:BatchGetItem"}  # reads only
    assert "dynamodb:PutItem" in allowed["POST /album"] and "dynamodb:DeleteItem" not in allowed["POST /album"]
    assert "dynamodb:DeleteItem" in allowed["DELETE /album"] and "dynamodb:PutItem" not in allowed["DELETE /album"]
    assert not any("dynamodb:Scan" in actions or "dynamodb:*" in actions for actions in allowed.values())


def test_functions_get_their_settings_from_the_environment(local) -> None:
    lam = local.client("lambda")
    for function in template.functions():
        variables = lam.get_function_configuration(FunctionName=function.name)["Environment"]["Variables"]
        assert variables["ALBUMS_TABLE"] == stack.table_name()
        assert not any(name.startswith("AWS_SECRET") for name in variables)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
