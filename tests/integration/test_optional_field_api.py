"""An optional field end to end (the record label, `Label`): given, found by search, sorted by, cleared; albums
without one (every seeded album) read fine and show none."""

from __future__ import annotations

import secrets

from tests.clients import Api
from tests.integration.conftest import album


def test_a_label_is_kept_found_sorted_by_and_cleared(api: Api, free_rank: int) -> None:
    word = f"label{secrets.token_hex(4)}"
    created = api.post(album(free_rank, Label=f"  {word.title()} Records "))
    assert created.status_code == 201, created.text
    assert created.json()["Label"] == f"{word.title()} Records"  # trimmed like every text

    found = api.get(q=word).json()
    assert [item["Rank"] for item in found["items"]] == [free_rank] and found["total"] == 1
    by_label = api.get(q=word, sort="Label", order="desc").json()
    assert [item["Rank"] for item in by_label["items"]] == [free_rank]

    cleared = api.put(free_rank, {"Label": "", "version": 1})
    assert cleared.status_code == 200, cleared.text
    assert "Label" not in cleared.json() and "Label" not in api.get(rank=free_rank).json()
    assert api.get(q=word).json()["total"] == 0  # no longer found by it


def test_albums_without_a_label_read_fine_and_sort_first(api: Api) -> None:
    seeded = api.get(rank=1).json()
    assert "Label" not in seeded and seeded["Album"]
    first = api.get(sort="Label", limit=3).json()["items"]
    assert len(first) == 3  # the unlabelled albums come first, by Rank, as ties do
