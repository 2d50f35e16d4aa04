"""template.yaml, the stack declared once: read it, and package it for a deploy as `sam deploy` or
`aws cloudformation package` would (the functions' code folder becomes an uploaded zip's S3 location).

The one addition the bootstrap makes: the API deployment's logical id carries a hash of the API's resources, so a
change to the API makes a new deployment (on AWS, method changes go live only in a new one), as SAM does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bootstrap.errors import StackError

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
    """The resources of a type, with the loops' copies among them."""
    return {name: res for name, res in expanded(template)["Resources"].items() if res["Type"] == type_name}


@dataclass(frozen=True)
class Function:
    """One API route of the template: its method and path, and the Lambda function that serves it."""

    method: str
    path: str
    name: str
    handler: str
    table_actions: tuple[str, ...]

    @property
    def route(self) -> str:
        """"GET /album": how the tests and the tools name a route."""
        return f"{self.method} {self.path}"


def functions(template: Template | None = None) -> tuple[Function, ...]:
    """Every route's function, with its method and path (from the API method whose integration calls it) and its
    table actions (from its role), read off the expanded template."""
    template = expanded(template or load())
    found = []
    for method in resources(template, "AWS::ApiGateway::Method").values():
        uri = method["Properties"].get("Integration", {}).get("Uri")
        if not uri:
            continue
        logical = next(name for name in resources(template, "AWS::Lambda::Function")
                       if {"Fn::GetAtt": [name, "Arn"]} in uri["Fn::Sub"][1].values())
        properties = template["Resources"][logical]["Properties"]
        role = template["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        actions = tuple(action for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]
                        for action in _as_list(statement["Action"]) if action.startswith("dynamodb:"))
        found.append(Function(method["Properties"]["HttpMethod"], path(template, method["Properties"]["ResourceId"]),
                              properties["FunctionName"], properties["Handler"], actions))
    return tuple(found)


def function_named(which: str, template: Template | None = None) -> Function:
    """The route's function that `make logs` / `make debug` FUNCTION=... names: albums-get, get (its module), or a
    method that only one route has (post -> albums-create). StackError names the choices."""
    routes = functions(template)
    wanted = which.lower().removeprefix("albums-")
    by_module = {f.name.removeprefix("albums-"): f for f in routes}
    by_method = {f.method.lower(): f for f in routes if [g.method for g in routes].count(f.method) == 1}
    found = by_module.get(wanted) or by_method.get(wanted)
    if found is None:
        raise StackError(f"no function named {which!r}: choose one of {', '.join(sorted(by_module))}")
    return found


def path(template: Template, resource_id: Any) -> str:
    """The full path of an API method's ResourceId (a Ref or a GetAtt ResourceId of an AWS::ApiGateway::Resource)."""
    logical = resource_id["Ref"] if "Ref" in resource_id else resource_id["Fn::GetAtt"][0]
    resource = template["Resources"][logical]["Properties"]
    parent = resource["ParentId"]
    above = "" if parent == {"Fn::GetAtt": ["RestApi", "RootResourceId"]} else path(template, parent)
    return f"{above}/{resource['PathPart']}"


# --- AWS::LanguageExtensions, as far as this template uses it ----------------------------------------------------
# CloudFormation (and SAM CLI, and MiniStack) expand the template's Fn::ForEach loops when it is deployed; the
# bootstrap and the tests read the same expansion from here. tests/unit/test_template.py holds it to MiniStack's.
_FOREACH = "Fn::ForEach::"
_PLACEHOLDER = re.compile(r"([$&])\{([^!}][^}]*)\}")


def expanded(template: Template) -> Template:
    """The template with its Fn::ForEach loops expanded and the Fn::FindInMap and Fn::Sub they make computable
    resolved, as the AWS::LanguageExtensions transform does."""
    if not any(key.startswith(_FOREACH) for key in template.get("Resources", {})):
        return template
    mappings = template.get("Mappings", {})
    made: dict[str, Any] = {}
    for key, value in template["Resources"].items():
        if not key.startswith(_FOREACH):
            made[key] = value
            continue
        identifier, collection, fragment = value
        for item in collection:
            for name, resource in fragment.items():
                logical = _substitute(name, identifier, item)
                if logical in made or logical in template["Resources"]:
                    raise ValueError(f"{key} makes {logical}, which the template already has")
                made[logical] = _expand(resource, identifier, item, mappings)
    return {**template, "Resources": made}


def _substitute(text: str, identifier: str, item: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(2) != identifier:
            return match.group(0)
        return re.sub(r"[^0-9A-Za-z]", "", item) if match.group(1) == "&" else item
    return _PLACEHOLDER.sub(replace, text)


def _expand(node: Any, identifier: str, item: str, mappings: dict[str, Any]) -> Any:
    def again(value: Any) -> Any:
        return _expand(value, identifier, item, mappings)

    if isinstance(node, list):
        return [again(value) for value in node]
    if not isinstance(node, dict):
        return node  # a plain string keeps its placeholders, as on AWS
    if len(node) == 1:
        (function, argument), = node.items()
        if function == "Ref" and argument == identifier:
            return item
        if function == "Ref" and isinstance(argument, dict):
            return {"Ref": _name(again(argument))}
        if function == "Fn::GetAtt" and isinstance(argument, list):
            return {"Fn::GetAtt": [_name(again(part)) if isinstance(part, dict) else part for part in argument]}
        if function == "Fn::FindInMap":
            table, key, field = (_name(again(part)) for part in argument)
            return mappings[table][key][field]
        if function == "Fn::Sub":
            return _sub(argument, identifier, item, again)
    return {key: again(value) for key, value in node.items()}


def _sub(argument: str | list[Any], identifier: str, item: str, again: Callable[[Any], Any]) -> Any:
    """An Fn::Sub with the loop's item in its text and its variables that became constants filled in; a plain
    string when nothing is left for CloudFormation to fill."""
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    text = _substitute(text, identifier, item)
    variables = {name: again(value) for name, value in variables.items()}
    literal = {name: value for name, value in variables.items() if isinstance(value, str)}
    text = re.sub(r"\$\{([^!}]+)\}", lambda m: literal.get(m.group(1), m.group(0)), text)
    left = {name: value for name, value in variables.items() if name not in literal}
    if left:
        return {"Fn::Sub": [text, left]}
    return text if "${" not in text else {"Fn::Sub": text}


def _name(value: Any) -> str:
    """A logical id or a map key that the loop made constant: a string, or an Fn::Sub without variables."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str) and "${" not in value["Fn::Sub"]:
        return str(value["Fn::Sub"])
    if isinstance(value, str):
        return value
    raise ValueError(f"not a constant name: {value!r}")


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def packaged(template: Template, code: dict[str, str]) -> Template:
    """The template to deploy: every function's `Code` folder replaced by `code` ({"S3Bucket", "S3Key"} of the
    uploaded zip), and the API deployment renamed after a hash of the API, so an API change makes a new one."""
    api = {name: res for name, res in template["Resources"].items()
           if name.startswith(_FOREACH)  # the routes: their methods (and functions, whose code is not in it yet)
           or (res["Type"].startswith("AWS::ApiGateway::") and name != DEPLOYMENT
               and res["Type"] != "AWS::ApiGateway::Stage")}
    digest = hashlib.sha256(json.dumps([api, template.get("Mappings")], sort_keys=True).encode()).hexdigest()[:10]
    template = copy.deepcopy(template)
    for function in _functions_declared(template["Resources"]):
        if isinstance(function["Properties"]["Code"], str):
            function["Properties"]["Code"] = dict(code)
    return _renamed(template, DEPLOYMENT, f"{DEPLOYMENT}{digest}")


def _functions_declared(declared: dict[str, Any]) -> list[dict[str, Any]]:
    """Every AWS::Lambda::Function as written: top-level or in a loop's fragment."""
    found = []
    for name, value in declared.items():
        if name.startswith(_FOREACH):
            found += _functions_declared(value[2])
        elif value.get("Type") == "AWS::Lambda::Function":
            found.append(value)
    return found


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
        if not isinstance(res, dict):  # a loop
            continue
        if res.get("DependsOn") == old:
            res["DependsOn"] = new
        elif isinstance(res.get("DependsOn"), list):
            res["DependsOn"] = [new if name == old else name for name in res["DependsOn"]]
    return {**template, "Resources": resources_, "Outputs": rename(template.get("Outputs", {}))}


def deployment_id(template: Template) -> str:
    """The logical id of the API deployment in a packaged template."""
    return next(iter(resources(template, "AWS::ApiGateway::Deployment")))
