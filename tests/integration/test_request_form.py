"""Requests that cannot mislead, through API Gateway: a body is JSON (415 otherwise, also for a form post or a body
without a Content-Type) and each query parameter comes once (400 naming it): API Gateway passes the last of repeated
values on AWS and MiniStack the first, so `?rank=1&rank=2` would touch different albums on each."""

from __future__ import annotations

import json

import pytest
import requests

from tests.integration.conftest import album


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None,
                                          "application/json; charset=iso-8859-1"])
def test_a_body_not_sent_as_json_is_415_and_stores_nothing(api, free_rank: int, content_type: str | None) -> None:
    body = json.dumps(album(free_rank)).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    request = api.http.prepare_request(requests.Request("POST", api.url, data=body, headers=headers))
    if content_type is None:
        request.headers.pop("Content-Type", None)
    response = api.http.send(request, timeout=30)

    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert response.headers["Access-Control-Allow-Origin"]
    assert api.get(rank=free_rank).status_code == 404


def test_a_form_encoded_change_is_415(api, free_rank: int) -> None:
    assert api.post(album(free_rank)).status_code == 201
    response = api.http.put(api.url, params={"rank": free_rank}, data={"Album": "Form", "version": "1"}, timeout=30)
    assert response.status_code == 415
    assert api.get(rank=free_rank).json()["version"] == 1


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_repeated_query_parameter_is_400_naming_it(api, free_rank: int, method: str) -> None:
    assert api.post(album(free_rank)).status_code == 201
    response = api.http.request(method, api.url, params=[("rank", free_rank), ("rank", free_rank + 1)], timeout=30)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"rank": "must be given once"}
    assert response.headers["Access-Control-Allow-Origin"]
    assert api.get(rank=free_rank).status_code == 200
