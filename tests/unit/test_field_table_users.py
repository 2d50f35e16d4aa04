"""Code outside the functions that handles albums follows the field table (albums.domain.FIELDS) instead of a copy of
its names: the benchmarks' request bodies, orders and audit, and the seed file's loader."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from albums.domain import FIELDS, SORT_FIELDS, TEXT, YEAR, Album, Field, validate_new_album
from albums.table import album_item
from bench import common
from bench.common import album_body
from bench.load import same
from bench.scale import ORDERS
from bootstrap import seed_data


def test_a_bench_body_is_a_valid_album_and_follows_a_new_required_field(monkeypatch: pytest.MonkeyPatch) -> None:
    assert validate_new_album(album_body(7)).values == album_body(7)
    assert album_body(7, Album="Given")["Album"] == "Given"
    monkeypatch.setattr(common, "FIELDS", (*FIELDS, Field("Studio", "Studio", TEXT), Field("Tracks", "Tracks", YEAR)))
    assert album_body(7)["Studio"] == "Bench" and album_body(7)["Tracks"] == YEAR.minimum


def test_the_scale_bench_times_every_order_the_api_offers() -> None:
    assert [name for name, _ in ORDERS] == [name for name in SORT_FIELDS if name != "Rank"]  # Rank's is timed apart
    assert {direction for _, direction in ORDERS} == {"asc", "desc"}


def test_the_load_audit_compares_every_field_as_the_api_reads_it() -> None:
    values = validate_new_album(album_body(9, Label="Columbia")).values
    album = Album(values=values, version=3, created_at="t", updated_at="t", created_by="u", updated_by="u")
    acknowledged = album.to_json()
    item = {key: Decimal(value) if isinstance(value, int) else value for key, value in album_item(album).items()}
    assert same(item, acknowledged)
    assert not same({**item, "Label": "Decca"}, acknowledged)  # the optional field is compared too
    assert not same({**item, "version": Decimal(4)}, acknowledged)


def test_the_seed_loader_types_the_tables_integer_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = tmp_path / "albums.csv"
    seed.write_text("Rank,Album,Artist,Genre,Year,Label,Tracks\n1,A,B,Rock,1967,,12\n")
    monkeypatch.setattr(seed_data, "FIELD", {**seed_data.FIELD, "Tracks": Field("Tracks", "Tracks", YEAR)})
    (row,) = seed_data.load_albums(seed)
    assert row == {"Rank": 1, "Album": "A", "Artist": "B", "Genre": "Rock", "Year": 1967, "Label": "", "Tracks": 12}
    assert validate_new_album({k: v for k, v in row.items() if k != "Tracks"}).values["Year"] == 1967
