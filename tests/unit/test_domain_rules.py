"""Every validation rule of the contract, on the domain functions directly (no AWS, no events)."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from datetime import UTC, datetime

import pytest

from albums import domain
from albums import http as albums_http
from albums.domain import InvalidRequest, validate_album_changes, validate_new_album

from .factory import album_body

NEXT_YEAR = datetime.now(UTC).year + 1


def invalid_fields(func, *args) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        func(*args)
    return caught.value.fields


def test_a_valid_album_is_accepted_with_strings_trimmed():
    new = validate_new_album(album_body(7, Album="  Blue Train \u00a0", Artist="John Coltrane"))
    assert new == domain.NewAlbum({"Rank": 7, "Album": "Blue Train", "Artist": "John Coltrane", "Genre": "Jazz",
                                   "Year": 1959})


@pytest.mark.parametrize("rank", [1, 500, 1_000_000])
def test_rank_bounds_accepted(rank):
    assert validate_new_album(album_body(rank)).rank == rank


@pytest.mark.parametrize("rank", [0, -1, 1_000_001, 10**30, 1.0, 1.5, "1", True, False, None, [1], {"n": 1}])
def test_rank_must_be_an_integer_between_1_and_1000000(rank):
    assert invalid_fields(validate_new_album, album_body(rank)) == {
        "Rank": "must be an integer between 1 and 1000000"
    }


@pytest.mark.parametrize("year", [1900, 1959, NEXT_YEAR])
def test_year_bounds_accepted(year):
    assert validate_new_album(album_body(Year=year)).values["Year"] == year


@pytest.mark.parametrize("year", [1899, NEXT_YEAR + 1, 0, -2000, 1999.0, "1999", True, None])
def test_year_must_be_between_1900_and_next_year(year):
    assert invalid_fields(validate_new_album, album_body(Year=year)) == {
        "Year": f"must be an integer between 1900 and {NEXT_YEAR}"
    }


def test_year_maximum_follows_the_clock(monkeypatch):
    monkeypatch.setattr(domain, "utc_now", lambda: datetime(2031, 1, 1, tzinfo=UTC))
    assert validate_new_album(album_body(Year=2032)).values["Year"] == 2032
    assert "Year" in invalid_fields(validate_new_album, album_body(Year=2033))
    assert domain.album_json_schema()["properties"]["Year"]["maximum"] == 2032


BIDI = "must not contain bidirectional control characters (U+202A to U+202E, U+2066 to U+2069)"
TAGS = "must not contain tag characters (U+E0000 to U+E007F)"


@pytest.mark.parametrize("field", ["Album", "Artist", "Genre"])
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "must be 1 to 200 characters after trimming spaces"),
        ("   ", "must be 1 to 200 characters after trimming spaces"),
        ("x" * 201, "must be 1 to 200 characters after trimming spaces"),
        ("a\nb", "must not contain control characters"),
        ("tab\there", "must not contain control characters"),
        ("nul\x00", "must not contain control characters"),
        ("del\x7f", "must not contain control characters"),
        ("c1\x85", "must not contain control characters"),
        ("ends with newline\n", "must not contain control characters"),
        ("lone \ud800 surrogate", "must be valid Unicode text"),
        ("bad byte \ufffd here", "must be valid Unicode text"),
        ("\u200b", "must contain a visible character"),
        ("\u200d\u200c", "must contain a visible character"),
        ("\ufeff", "must contain a visible character"),
        ("\u202e", BIDI),
        ("Abbey \u202eRoad", BIDI),
        ("a\u202ab", BIDI),
        ("\u2066isolated\u2069", BIDI),
        ("hidden\U000e0041\U000e0042", TAGS),
        ("\U000e0000", TAGS),
        ("flag \U0001f3f4\U000e0067\U000e0062\U000e007f", TAGS),
        (" \u00a0\u2060\u3000\u3164 ", "must contain a visible character"),
        (42, "must be a string"),
        (None, "must be a string"),
        (["Rock"], "must be a string"),
        (True, "must be a string"),
    ],
)
def test_text_rules(field, value, reason):
    assert invalid_fields(validate_new_album, album_body(**{field: value})) == {field: reason}


@pytest.mark.parametrize("field", ["Album", "Artist", "Genre"])
def test_text_length_is_counted_after_trimming(field):
    text = "y" * 200
    assert validate_new_album(album_body(**{field: f"  {text}  "})).values[field] == text
    assert validate_new_album(album_body(**{field: "é"})).values[field] == "é"


def test_every_missing_and_unknown_field_is_named_at_once():
    fields = invalid_fields(validate_new_album, {"Rank": 3, "version": 1, "Studio": "Abbey Road"})
    assert fields == {
        "Album": "is required",
        "Artist": "is required",
        "Genre": "is required",
        "Year": "is required",
        "version": "unknown field",
        "Studio": "unknown field",
    }


def test_an_optional_field_may_be_given_left_out_or_cleared():
    assert validate_new_album(album_body(Label="  Columbia ")).values["Label"] == "Columbia"
    assert "Label" not in validate_new_album(album_body()).values
    assert "Label" not in validate_new_album(album_body(Label="")).values  # "" is no value
    assert domain.validate_album_changes({"Label": "", "version": 2}).fields == {"Label": None}  # clears it
    assert domain.validate_album_changes({"Label": " Stax", "version": 2}).fields == {"Label": "Stax"}
    assert invalid_fields(validate_new_album, album_body(Label="\u202eStax"))["Label"].startswith(
        "must not contain bidirectional")
    assert "Label" in invalid_fields(validate_new_album, album_body(Label=" " * 201))  # as long as a text may be
    changes = domain.AlbumChanges(version=2, fields={"Label": None, "Year": 1970})
    assert changes.applied_to({"Rank": 1, "Label": "Stax", "Year": 1969}) == {"Rank": 1, "Year": 1970}


def test_the_site_reads_the_field_table():
    table = domain.fields_json()
    assert [field["name"] for field in table] == ["Rank", "Album", "Artist", "Genre", "Year", "Label"]
    label = table[-1]
    assert label == {"name": "Label", "label": "Record label", "type": "text", "required": False, "editable": True,
                     "sortable": True, "searchable": True}
    assert table[0]["editable"] is False and table[4]["type"] == "integer"


@pytest.mark.parametrize("body", [[], "album", 5, None, True, [album_body()]])
def test_body_must_be_a_json_object(body):
    assert invalid_fields(validate_new_album, body) == {"body": "must be a JSON object"}
    assert invalid_fields(validate_album_changes, body) == {"body": "must be a JSON object"}


def test_changes_need_a_version_and_at_least_one_field():
    assert validate_album_changes({"Genre": " Jazz ", "version": 3}) == domain.AlbumChanges(3, {"Genre": "Jazz"})
    assert invalid_fields(validate_album_changes, {"Genre": "Jazz"}) == {"version": "is required"}
    assert "body" in invalid_fields(validate_album_changes, {"version": 3})


@pytest.mark.parametrize("version", [0, -1, 2**53, "3", 3.0, True, None])
def test_version_must_be_a_positive_safe_integer(version):
    assert invalid_fields(validate_album_changes, {"Genre": "Jazz", "version": version}) == {
        "version": f"must be an integer between 1 and {2**53 - 1}"
    }


def test_rank_cannot_be_changed_and_server_fields_are_unknown():
    fields = invalid_fields(validate_album_changes, {"Rank": 9, "createdBy": "me", "version": 1, "Year": 1800})
    assert fields == {
        "Rank": "cannot be changed",
        "createdBy": "unknown field",
        "Year": f"must be an integer between 1900 and {NEXT_YEAR}",
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "is required (a JSON object)"),
        ("", "is required (a JSON object)"),
        ("{", "must be valid JSON"),
        ("{'Rank': 1}", "must be valid JSON"),
        ('{"Rank": 1,}', "must be valid JSON"),
        ("[" * 5000 + "]" * 5000, "must be valid JSON"),
        ('{"Rank": ' + "9" * 5000 + "}", "must be valid JSON"),
        ('{"Rank": 1, "Rank": 2}', "must not repeat a field"),
        ('{"Album": "bad \ufffd byte"}', albums_http.BODY_NOT_UTF8),
        (json.dumps({"Album": "x" * 16_400}), "must be at most 16384 bytes"),
        (json.dumps({"Album": "é" * 8_200}, ensure_ascii=False), "must be at most 16384 bytes"),
    ],
)
def test_json_body_problems_are_reported_on_body(raw, reason):
    assert invalid_fields(albums_http.parse_json_body, raw) == {"body": reason}


def test_a_body_of_exactly_16_kib_is_parsed():
    raw = json.dumps({"pad": "x" * (16 * 1024 - 11)})
    assert len(raw.encode()) == 16 * 1024
    assert albums_http.parse_json_body(raw) == {"pad": "x" * (16 * 1024 - 11)}


@pytest.mark.parametrize("raw", ["0", "1000001", "-1", "+1", " 1", "1.0", "1e3", "abc", "", "\u0663", "9" * 40])
def test_rank_query_parameter(raw):
    assert invalid_fields(domain.parse_rank, {"rank": raw}) == {"rank": "must be an integer between 1 and 1000000"}


def test_rank_query_parameter_required_or_optional():
    assert domain.parse_rank({"rank": "000017"}) == 17
    assert invalid_fields(domain.parse_rank, {}) == {"rank": "is required"}
    assert domain.parse_rank({}, required=False) is None


@pytest.mark.parametrize("raw", ["0", "101", "-5", "ten", "", "50.5"])
def test_limit_must_be_1_to_100(raw):
    assert invalid_fields(domain.parse_page_request, {"limit": raw}) == {
        "limit": "must be an integer between 1 and 100"
    }


def test_limit_defaults_to_50():
    assert domain.parse_page_request({}) == domain.PageRequest(50, None)
    assert domain.parse_page_request({"limit": "100", "nextToken": "abc"}) == domain.PageRequest(100, "abc")


def test_delete_version_parameter():
    assert domain.parse_expected_version({}) is None
    assert domain.parse_expected_version({"version": "4"}) == 4
    assert invalid_fields(domain.parse_expected_version, {"version": "0"}) == {
        "version": f"must be an integer between 1 and {2**53 - 1}"
    }


def test_album_json_schema_describes_the_create_body():
    schema = domain.album_json_schema()
    assert schema["required"] == ["Rank", "Album", "Artist", "Genre", "Year"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["Rank"] == {"type": "integer", "minimum": 1, "maximum": 1_000_000}
    assert schema["properties"]["Year"] == {"type": "integer", "minimum": 1900, "maximum": NEXT_YEAR}
    json.dumps(schema)  # goes into config.js as is


@pytest.mark.parametrize(
    ("text", "matches"),
    [("Abbey Road", True), ("  x ", True), ("é", True), ("", False), ("   ", False), ("a\nb", False), ("\x85", False),
     ("\ufeff", False), ("\u200b\u200d", False), ("\u202eabc", False), ("x\ufffd", False), ("\u0301", True),
     ("abc\u2069", False), ("\U000e0080abc", True), ("\u200fabc\u200e", True),
     ("\U0001f3b8", True)],
)
def test_the_schema_pattern_agrees_with_the_text_rule(text, matches):
    pattern = re.compile(domain.TEXT_PATTERN)
    assert bool(pattern.search(text)) is matches


def test_no_space_or_format_character_of_the_bmp_counts_as_visible():
    """The invisible list is written out by hand (so ECMA and Python read it alike): check it against Unicode."""
    blank = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) in ("Zs", "Zl", "Zp", "Cf")]
    assert len(blank) > 60
    accepted = [f"U+{ord(c):04X}" for c in blank if re.fullmatch(domain.TEXT_PATTERN, c)]
    assert accepted == []


NODE_CASES = ["Abbey Road", "\ufeff", "\u200b", " \u3000 ", "a\u0085b", "é", "\u202eabc", "x\ufffd", "\u2800",
              "abc\U000e0041", "\U0001f3b8", "a\u2066b"]


def test_the_page_reads_the_pattern_as_the_server_does():
    """The page (and OpenAPI tools) use ECMA-262 regular expressions, with the `u` flag (the page) or without: same
    verdict as Python's `re` on every case."""
    script = ("const [p, cases] = JSON.parse(process.argv[1]);"
              "console.log(JSON.stringify(cases.flatMap((c) => [new RegExp(p).test(c), new RegExp(p, 'u').test(c)])));")
    ecma = subprocess.run(["node", "-e", script, json.dumps([domain.TEXT_PATTERN, NODE_CASES])],
                          capture_output=True, text=True, check=True, timeout=30)
    python = [bool(re.search(domain.TEXT_PATTERN, case)) for case in NODE_CASES]
    assert json.loads(ecma.stdout) == [verdict for verdict in python for _mode in ("plain", "u")]
    # the tag character passes the pattern: albums.domain refuses it on its own (test_text_rules)
    assert python == [True, False, False, False, False, True, False, False, False, True, True, False]
