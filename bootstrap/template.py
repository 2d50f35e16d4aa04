"""template.yaml, the stack declared once: read it, and package it for a deploy as `sam deploy` or
`aws cloudformation package` would (the functions' code folder becomes an uploaded zip's S3 location).

The one addition the bootstrap makes: the API deployment's logical id carries a hash of the API's resources, so a
change to the API makes a new deployment (on AWS, method changes go live only in a new one), as SAM does.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
STACK_NAME = "albums"
DEPLOYMENT = "ApiDeployment"

Template = dict[str, Any]


# libyaml's parser when PyYAML has it (its wheels do): 5 ms for the template instead of 65.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """YAML with CloudFormation's short forms (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) read as their long forms."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected !{suffix}", node.start_mark)
    return {name: value}


_Loader.add_multi_constructor("!", _short_form)


@cache
def _read(path: Path) -> Template:
    loaded: Template = yaml.load(path.read_text(), Loader=_Loader)  # a SafeLoader: no arbitrary objects
    return loaded


def load(path: Path = TEMPLATE) -> Template:
    """The template as CloudFormation reads it (long forms only); a fresh copy each call."""
    return copy.deepcopy(_read(path))


def resources(template: Template, type_name: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == type_name}


@dataclass(frozen=True)
class Function:
    """One Lambda function of the template and the API method it serves."""

    method: str
    name: str
    handler: str
    table_actions: tuple[str, ...]


def functions(template: Template | None = None) -> tuple[Function, ...]:
    """Every function with its method (from the API method whose integration calls it) and its table actions."""
    template = template or load()
    found = []
    for method in resources(template, "AWS::ApiGateway::Method").values():
        uri = method["Properties"].get("Integration", {}).get("Uri")
        if not uri:
            continue
        logical = next(name for name in resources(template, "AWS::Lambda::Function") if f"${{{name}.Arn}}" in str(uri))
        properties = template["Resources"][logical]["Properties"]
        role = template["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        actions = tuple(action for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]
                        for action in _as_list(statement["Action"]) if action.startswith("dynamodb:"))
        found.append(Function(method["Properties"]["HttpMethod"], properties["FunctionName"], properties["Handler"],
                              actions))
    return tuple(found)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def packaged(template: Template, code: dict[str, str]) -> Template:
    """The template to deploy: every function's `Code` folder replaced by `code` ({"S3Bucket", "S3Key"} of the
    uploaded zip), and the API deployment renamed after a hash of the API, so an API change makes a new one."""
    template = copy.deepcopy(template)
    for function in resources(template, "AWS::Lambda::Function").values():
        if isinstance(function["Properties"]["Code"], str):
            function["Properties"]["Code"] = dict(code)
    api = {name: res for name, res in template["Resources"].items()
           if res["Type"].startswith("AWS::ApiGateway::") and name != DEPLOYMENT
           and res["Type"] != "AWS::ApiGateway::Stage"}
    digest = hashlib.sha256(json.dumps(api, sort_keys=True).encode()).hexdigest()[:10]
    return _renamed(template, DEPLOYMENT, f"{DEPLOYMENT}{digest}")


def _renamed(template: Template, old: str, new: str) -> Template:
    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("Ref") == old:
                return {"Ref": new}
            if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] == old:
                return {"Fn::GetAtt": [new, *value["Fn::GetAtt"][1:]]}
            return {key: rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        return value

    resources_ = {new if name == old else name: rename(res) for name, res in template["Resources"].items()}
    for res in resources_.values():
        if res.get("DependsOn") == old:
            res["DependsOn"] = new
        elif isinstance(res.get("DependsOn"), list):
            res["DependsOn"] = [new if name == old else name for name in res["DependsOn"]]
    return {**template, "Resources": resources_, "Outputs": rename(template.get("Outputs", {}))}


def deployment_id(template: Template) -> str:
    """The logical id of the API deployment in a packaged template."""
    return next(iter(resources(template, "AWS::ApiGateway::Deployment")))
