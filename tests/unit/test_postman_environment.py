"""`make postman-env`: the environment the Postman app imports, built from a stack's outputs."""

from __future__ import annotations

import json
import re

from tests.postman import run

LOCAL = {"Target": "local", "Region": "us-east-1", "EndpointUrl": "http://127.0.0.1:4566", "UserPoolClientId": "c1",
         "ApiUrl": "http://127.0.0.1:4566/_aws/execute-api/a1/prod", "SiteOrigin": "http://127.0.0.1:4566"}
AWS = {**LOCAL, "Target": "aws", "Region": "eu-west-1", "EndpointUrl": None,
       "ApiUrl": "https://a1.execute-api.eu-west-1.amazonaws.com/prod", "SiteOrigin": "https://d1.cloudfront.net"}


def values(stack: dict, **user: str) -> dict[str, str]:
    return {v["key"]: v["value"] for v in run.environment(stack, **user)["values"]}


def test_sign_in_goes_to_the_stacks_cognito_endpoint() -> None:
    assert values(LOCAL)["cognitoUrl"] == "http://127.0.0.1:4566/"
    assert values(AWS)["cognitoUrl"] == "https://cognito-idp.eu-west-1.amazonaws.com/"


def test_environment_names_what_the_collection_uses_and_no_token() -> None:
    assert values(AWS) == {"apiUrl": AWS["ApiUrl"], "cognitoUrl": "https://cognito-idp.eu-west-1.amazonaws.com/",
                           "userPoolClientId": "c1", "siteOrigin": "https://d1.cloudfront.net", "email": "",
                           "password": ""}
    environment = run.environment(LOCAL, email="a@b.test", password="Pw1!x")
    assert [v["type"] for v in environment["values"] if v["key"] == "password"] == ["secret"]
    assert values(LOCAL, email="a@b.test", password="Pw1!x")["email"] == "a@b.test"


def test_every_variable_of_the_collection_has_a_source() -> None:
    text = run.COLLECTION.read_text()
    used = set(re.findall(r"\{\{(\w+)\}\}", text))
    collection_variables = {v["key"] for v in json.loads(text)["variable"]}
    set_by_scripts = set(re.findall(r"pm\.variables\.set\('(\w+)'", text))
    assert used - set(values(LOCAL)) - collection_variables - set_by_scripts == set()
    assert "idToken" in collection_variables  # filled by the Sign in request, sent by every other one
