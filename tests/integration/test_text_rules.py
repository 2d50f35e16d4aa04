"""Text that must not get in, sent through API Gateway as a client would: bytes that are not UTF-8, titles with
nothing visible. Each is a 400 naming the body or the field, and nothing is stored."""

from __future__ import annotations

import json

import pytest

from albums import http as albums_http
from tests.integration.conftest import album


def test_a_body_that_is_not_utf8_is_refused_naming_the_body(api, free_rank: int) -> None:
    raw = json.dumps(album(free_rank, Album="Caf-e")).encode().replace(b"Caf-e", b"Caf\xe9")  # Latin-1 é
    response = api.http.post(api.url, data=raw, headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"body": albums_http.BODY_NOT_UTF8}
    assert response.headers["Access-Control-Allow-Origin"]
    assert api.get(rank=free_rank).status_code == 404


@pytest.mark.parametrize("title", ["\u200b", "\u200d\u200c", "\ufeff", " \u00a0\u2060\u3164 "])
def test_a_title_with_no_visible_character_is_refused(api, free_rank: int, title: str) -> None:
    response = api.post(album(free_rank, Album=title))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"Album": "must contain a visible character"}
    assert api.get(rank=free_rank).status_code == 404


def test_an_edit_to_an_invisible_name_is_refused(api, free_rank: int) -> None:
    assert api.post(album(free_rank)).status_code == 201
    response = api.put(free_rank, {"Artist": "\u2060\u200b", "version": 1})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"Artist": "must contain a visible character"}
    assert api.get(rank=free_rank).json()["version"] == 1


@pytest.mark.parametrize(("text", "rule"), [
    ("Abbey \u202eRoad", "bidirectional control characters"),  # right-to-left override: "Abbey daoR" on screen
    ("\u2067Nevermind\u2069", "bidirectional control characters"),
    ("Kind of Blue\U000e0041\U000e0042", "tag characters"),  # invisible "AB" riding along
])
def test_text_that_reorders_or_hides_itself_is_refused_naming_the_field(api, free_rank: int, text: str,
                                                                         rule: str) -> None:
    created = api.post(album(free_rank, Artist=text))
    assert created.status_code == 400
    assert rule in created.json()["error"]["fields"]["Artist"]
    assert api.post(album(free_rank)).status_code == 201
    changed = api.put(free_rank, {"Genre": text, "version": 1})
    assert changed.status_code == 400 and set(changed.json()["error"]["fields"]) == {"Genre"}
    assert api.get(rank=free_rank).json()["version"] == 1
