"""api/openapi.yaml is a valid OpenAPI 3.0 document that agrees with the domain rules and with real responses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import ValidationError
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from albums import catalog, domain, http
from albums.handlers import create, get, stats, update

from .factory import album_body, call

SPEC_PATH = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
CONSTRAINTS = ("type", "minimum", "maximum", "minLength", "maxLength", "pattern")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, *path = node["$ref"].split("/")
        node = spec
        for part in path:
            node = node[part]
    return node


def constraints(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(spec, schema)
    if "anyOf" in schema:
        return {"anyOf": [constraints(spec, member) for member in schema["anyOf"]]}
    return {key: schema[key] for key in CONSTRAINTS if key in schema}


def expected(domain_property: dict[str, Any], name: str) -> dict[str, Any]:
    if "anyOf" in domain_property:
        return {"anyOf": [expected(member, name) for member in domain_property["anyOf"]]}
    wanted = {key: domain_property[key] for key in CONSTRAINTS if key in domain_property}
    if name == "Year":
        wanted.pop("maximum")  # current UTC year + 1: dynamic, documented in prose
    return wanted


def test_the_file_is_a_valid_openapi_3_0_document(spec):
    assert spec["openapi"] == "3.0.3"
    validate(spec)


def test_servers_are_templated_not_hard_coded(spec):
    for server in spec["servers"]:
        assert "localhost" not in server["url"] and "127.0.0.1" not in server["url"]
        assert not server["url"].startswith("http")


@pytest.mark.parametrize(
    ("schema_name", "domain_schema"),
    [("AlbumInput", domain.album_json_schema()), ("AlbumUpdate", domain.album_changes_json_schema())],
)
def test_request_schemas_match_the_domain(spec, schema_name, domain_schema):
    documented = resolve(spec, spec["components"]["schemas"][schema_name])

    assert documented["type"] == "object"
    assert documented["additionalProperties"] is domain_schema["additionalProperties"] is False
    assert documented["required"] == domain_schema["required"]
    assert documented.get("minProperties") == domain_schema.get("minProperties")
    assert set(documented["properties"]) == set(domain_schema["properties"])
    for name, rule in domain_schema["properties"].items():
        assert constraints(spec, documented["properties"][name]) == expected(rule, name), name


def test_the_album_schema_carries_the_same_rules_plus_server_fields(spec):
    album = spec["components"]["schemas"]["Album"]
    rules = domain.album_json_schema()["properties"]
    for field in domain.FIELDS:  # a stored value always follows the field's rule (no "" for an absent one)
        assert constraints(spec, album["properties"][field.name]) == expected(field.rule.schema(), field.name)
    server_fields = {"version", "createdAt", "updatedAt", "createdBy", "updatedBy"}
    assert set(album["properties"]) == set(rules) | server_fields
    assert set(album["required"]) == {field.name for field in domain.FIELDS if field.required} | server_fields
    assert album["additionalProperties"] is False
    assert constraints(spec, album["properties"]["version"]) == expected(domain.VERSION.schema(), "version")


def test_year_has_the_domain_minimum_and_no_fixed_maximum(spec):
    year = resolve(spec, spec["components"]["schemas"]["Year"])
    assert year["minimum"] == domain.YEAR_MIN and "maximum" not in year


def test_query_parameters_match_the_domain(spec):
    parameters = spec["components"]["parameters"]
    for name in ("Rank", "OptionalRank"):
        assert constraints(spec, parameters[name]["schema"]) == domain.RANK.schema()
    assert parameters["Limit"]["schema"] == {**domain.PAGE_LIMIT.schema(), "default": domain.PAGE_LIMIT_DEFAULT}
    assert constraints(spec, parameters["ExpectedVersion"]["schema"]) == domain.VERSION.schema()
    assert parameters["Sort"]["schema"]["enum"] == list(domain.SORT_FIELDS)
    assert parameters["Order"]["schema"]["enum"] == list(domain.SORT_ORDERS)
    assert parameters["Search"]["schema"]["maxLength"] == domain.SEARCH_MAX_LENGTH
    assert f"{{1,{parameters['NextToken']['schema']['maxLength']}}}" in catalog._TOKEN_SHAPE.pattern


def test_every_error_code_the_functions_use_is_documented(spec):
    codes = resolve(spec, spec["components"]["schemas"]["Error"])["properties"]["error"]["properties"]["code"]["enum"]
    assert {code for _, code in http._ERRORS.values()} | {"internal_error"} <= set(codes)


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/album", "get", {"200", "400", "401", "404", "409", "500", "503"}),
        ("/album", "post", {"201", "400", "401", "403", "409", "415", "500", "503"}),
        ("/album", "put", {"200", "400", "401", "403", "404", "409", "415", "500", "503"}),
        ("/album", "delete", {"204", "400", "401", "403", "404", "409", "500", "503"}),
        ("/album/stats", "get", {"200", "400", "401", "500", "503"}),  # 400: a query parameter given twice
    ],
)
def test_every_status_of_the_contract_is_documented_with_cors_headers(spec, path, method, statuses):
    operation = spec["paths"][path][method]
    assert set(operation["responses"]) == statuses
    assert spec["security"] == [{"CognitoIdToken": []}] and "security" not in operation
    for status, response in operation["responses"].items():
        headers = resolve(spec, response)["headers"]
        assert set(headers) == {"Access-Control-Allow-Origin", "Access-Control-Allow-Headers",
                                "Access-Control-Allow-Methods"} | ({"Retry-After"} if status == "503" else set())


def test_the_stats_name_their_groups_by_the_fields_rules_and_list_the_top_artists_only(spec):
    stats_schema = spec["components"]["schemas"]["AlbumStats"]["properties"]
    for name, label in (("genres", "genre"), ("topArtists", "artist")):
        group = stats_schema[name]["items"]["properties"][label]
        assert constraints(spec, group) == domain.FIELD[label.capitalize()].rule.schema(), name
    assert stats_schema["topArtists"]["maxItems"] == catalog.TOP_ARTISTS


def test_security_scheme_is_the_cognito_id_token_in_authorization(spec):
    scheme = spec["components"]["securitySchemes"]["CognitoIdToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


def test_real_responses_validate_against_the_documented_schemas(spec, table):
    def check(schema_name: str, body: Any) -> None:
        schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
        OAS30Validator(schema).validate(json.loads(json.dumps(body)))

    status, album, _ = call(create.handler, "POST", body=album_body(3))
    assert status == 201
    check("Album", album)
    status, page, _ = call(get.handler, "GET", {"limit": "1"})
    check("AlbumPage", page)
    status, page, _ = call(get.handler, "GET", {"q": "blue", "sort": "Year", "order": "desc"})
    assert status == 200 and page["total"] == 1
    check("AlbumPage", page)
    status, _, _ = call(update.handler, "PUT", {"rank": "3"}, {"Year": 1960, "version": 1})
    status, conflict, _ = call(update.handler, "PUT", {"rank": "3"}, {"Year": 1961, "version": 1})
    assert status == 409
    check("Error", conflict)
    status, counts, _ = call(stats.handler, "GET")
    assert status == 200 and counts["total"] == 1
    check("AlbumStats", counts)
    status, invalid, _ = call(create.handler, "POST", body={"Rank": True, "Extra": 1})
    assert status == 400
    check("Error", invalid)
    with pytest.raises(ValidationError, match="is not of type"):
        check("Album", {**album, "Year": "1959"})  # the check itself can fail
