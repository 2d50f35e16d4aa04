"""Hypothesis-generated bad input: always a 400 naming the offending field (or "body"), never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from albums.handlers import create, delete, get, update

from .factory import album_body, call

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
YEAR_MAX = datetime.now(UTC).year + 1
TEXT_FIELDS = ("Album", "Artist", "Genre")

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
not_a_string = json_values.filter(lambda value: not isinstance(value, str))
not_an_int = json_values.filter(lambda value: type(value) is not int)
with_control_char = st.builds(
    lambda head, control, tail: head + control + tail,
    st.text(max_size=20),
    st.characters(categories=["Cc"]),
    st.text(max_size=20),
)
lone_surrogate = st.builds(lambda head, s: head + s, st.text(max_size=5), st.characters(categories=["Cs"]))
over_long = st.text(st.characters(categories=["L", "N", "P"]), min_size=201, max_size=400)
blank = st.text(" \u00a0\u2003", max_size=10)
bad_text = st.one_of(not_a_string, with_control_char, lone_surrogate, over_long, blank)


def out_of_range(low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1))


bad_value = {
    "Rank": st.one_of(not_an_int, out_of_range(1, 1_000_000)),
    "Year": st.one_of(not_an_int, out_of_range(1900, YEAR_MAX)),
    **dict.fromkeys(TEXT_FIELDS, bad_text),
}
unknown_names = st.text(min_size=1, max_size=30).filter(
    lambda name: name not in {"Rank", "Album", "Artist", "Genre", "Year", "version"}
)


@st.composite
def bad_album(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A create body with exactly one problem, and the field the 400 must name."""
    body = album_body(draw(st.integers(1, 1_000_000)))
    mistake = draw(st.sampled_from(["value", "missing", "unknown"]))
    if mistake == "unknown":
        name = draw(unknown_names)
        body[name] = draw(json_values)
        return body, name
    name = draw(st.sampled_from(list(bad_value)))
    if mistake == "missing":
        del body[name]
    else:
        body[name] = draw(bad_value[name])
    return body, name


def assert_400_naming(result: tuple[int, Any, dict[str, str]], field: str) -> None:
    status, body, headers = result
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"
    assert field in body["error"]["fields"], body
    assert headers["Access-Control-Allow-Origin"] == "*"


@FUZZ
@given(case=bad_album())
def test_create_rejects_each_bad_field(table, case):
    body, field = case
    assert_400_naming(call(create.handler, "POST", body=body), field)


@FUZZ
@given(case=bad_album(), version=st.integers(1, 5))
def test_update_rejects_each_bad_field(table, case, version):
    body, field = case
    assume(field != "Rank" and field in body)  # a PUT has no Rank, and may leave any album field out
    body = {k: v for k, v in body.items() if k != "Rank"} | {"version": version}
    assert_400_naming(call(update.handler, "PUT", {"rank": "1"}, body), field)


@FUZZ
@given(version=st.one_of(not_an_int, out_of_range(1, 2**53 - 1)))
def test_update_rejects_a_bad_version(table, version):
    assert_400_naming(call(update.handler, "PUT", {"rank": "1"}, {"Genre": "Jazz", "version": version}), "version")


@FUZZ
@given(raw=st.one_of(st.text(max_size=200), st.binary(max_size=100).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_text_bodies_are_400_never_500(table, raw):
    for handler, method, query in ((create.handler, "POST", None), (update.handler, "PUT", {"rank": "1"})):
        status, body, _ = call(handler, method, query, raw_body=raw)
        assert status in (400, 404), body  # 404: text that happens to be a valid update of a missing album
        if status == 400:
            assert body["error"]["fields"]


@FUZZ
@given(data=st.data())
def test_malformed_json_is_400_on_body(table, data):
    valid = json.dumps(album_body())
    cut = data.draw(st.integers(1, len(valid) - 1))
    assert_400_naming(call(create.handler, "POST", raw_body=valid[:cut]), "body")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.integers(1, 50_000), char=st.sampled_from(["x", "é", "\u20ac", "\U0001f3b5"]))
def test_bodies_over_16_kib_are_400_on_body(table, extra, char):
    padding = char * ((16 * 1024 + extra) // len(char.encode()) + 1)
    raw = json.dumps({**album_body(), "Album": padding}, ensure_ascii=False)
    assert_400_naming(call(create.handler, "POST", raw_body=raw), "body")


@FUZZ
@given(
    name=st.sampled_from(["rank", "limit", "nextToken"]),
    raw=st.text(max_size=40),
)
def test_get_query_parameters_never_500(table, name, raw):
    status, body, _ = call(get.handler, "GET", {name: raw})
    assert status in (200, 400, 404), body
    if status == 400:
        assert list(body["error"]["fields"]) == [name]


@FUZZ
@given(rank=st.text(max_size=12), version=st.none() | st.text(max_size=12))
def test_delete_query_parameters_never_500(table, rank, version):
    query = {"rank": rank} | ({} if version is None else {"version": version})
    status, body, _ = call(delete.handler, "DELETE", query)
    assert status in (204, 400, 404), body
    if status == 400:
        assert set(body["error"]["fields"]) <= {"rank", "version"}
