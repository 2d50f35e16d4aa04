"""Contract fuzzing: schemathesis generates requests from api/openapi.yaml and checks every response against it.

Bounded (max_examples per operation) so it stays a test, not a soak. Generated ranks that would touch the seed
albums are moved to a high range: the e2e journeys that run after this expect the seeded list intact.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bootstrap import template
from bootstrap.access import ROOT
from tests.clients import Api, User, confirmed_user

schema = schemathesis.openapi.from_path(ROOT / "api" / "openapi.yaml")
SAFE_RANKS = 600_000


def keep_off_the_seed(case) -> None:
    if isinstance(case.query, dict) and "rank" in case.query:
        case.query["rank"] = _off_the_seed(case.query["rank"])
    if isinstance(case.body, dict) and "Rank" in case.body:
        case.body["Rank"] = _off_the_seed(case.body["Rank"])


def _off_the_seed(value: object) -> object:
    """A rank below SAFE_RANKS, as a number or as the digits a query string carries, moved up; anything else kept."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    try:
        rank = int(str(value).strip())
    except ValueError:
        return value
    if not 0 < rank < SAFE_RANKS:
        return value
    return rank + SAFE_RANKS if isinstance(value, int) else str(rank + SAFE_RANKS)


@pytest.fixture(scope="module")
def fuzzer(stack: dict):
    """The fuzzer's own user; every album it managed to create is deleted afterwards, so the suites after this one
    (e.g. "Year, newest first") see the seeded collection, not random leftovers."""
    user = confirmed_user("fuzz")
    yield user
    api = Api(user)
    token = None
    while True:
        page = api.get(limit=100, **({"nextToken": token} if token else {})).json()
        for album in page["items"]:
            if album["createdBy"] == user.sub:
                api.delete(album["Rank"])
        if (token := page["nextToken"]) is None:
            break


def contract_test(method: str, path: str) -> Callable[..., None]:
    """The contract test of one operation: a test function of its own per method and path, so each has its own test
    id. (schema.parametrize() over several operations gives their items one shared id under pytest 9, and
    pytest-xdist keeps one item per id: only one operation was fuzzed in `make test` until this.)"""

    @schema.include(method=method, path=path).parametrize()
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def test(case, fuzzer: User, stack: dict) -> None:
        keep_off_the_seed(case)
        case.call_and_validate(
            base_url=stack["ApiUrl"],
            headers={"Authorization": fuzzer.id_token},
            checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                    response_schema_conformance, response_headers_conformance],
        )

    return test


OPERATIONS = [(result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()]
for _method, _path in OPERATIONS:  # test_get_album_matches_the_contract, test_get_album_stats_matches_the_contract, ...
    globals()[f"test_{_method.lower()}{_path.replace('/', '_')}_matches_the_contract"] = contract_test(_method, _path)


def test_every_route_of_the_template_is_in_the_contract_with_its_preflight() -> None:
    routes = {(function.method, function.path) for function in template.functions()}
    assert {method for method, _ in routes} == {"GET", "POST", "PUT", "DELETE"}  # the check itself can fail
    assert set(OPERATIONS) == routes | {("OPTIONS", path) for _, path in routes}


pytestmark = pytest.mark.integration
