"""GET /album/stats through API Gateway with real ID tokens: the seeded collection's counts, and the user's own writes
counted at once, grouped as search matches. Other tests write meanwhile: the checks are on the seed (which they
leave alone) and on this test's own, uniquely named albums. Tokens and roles: test_roles_and_tokens.py."""

from __future__ import annotations

import csv
import secrets
from collections import Counter
from typing import Any

from bootstrap.access import ROOT
from tests.clients import Api
from tests.integration.conftest import album

SEED = list(csv.DictReader((ROOT / "data" / "albums.csv").open(encoding="utf-8")))


def stats(api: Api) -> dict[str, Any]:
    response = api.http.get(api.url + "/stats", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"]
    return response.json()


def test_the_stats_cover_the_whole_seeded_collection(api: Api) -> None:
    body = stats(api)

    assert set(body) == {"total", "genres", "decades", "topArtists"}
    assert body["total"] >= len(SEED)
    decades = {entry["decade"]: entry["count"] for entry in body["decades"]}
    assert all(decades.get(decade, 0) >= count
               for decade, count in Counter(int(row["Year"]) // 10 * 10 for row in SEED).items())
    assert sum(decades.values()) == body["total"]  # every album has a Year
    genres = {entry["genre"]: entry["count"] for entry in body["genres"]}
    assert genres["Rock"] >= 249 and body["genres"][0]["genre"] == "Rock"
    # The three artists with 10 seeded albums each lead, in the order of their names, as written.
    assert [artist["artist"] for artist in body["topArtists"][:3]] == ["Bob Dylan", "The Beatles", "The Rolling Stones"]
    assert len(body["topArtists"]) == 10


def test_the_users_own_writes_are_counted_at_once_and_spellings_alike_are_one_genre(api: Api, free_rank: int) -> None:
    genre = f"Stats Genre {secrets.token_hex(3)}"
    assert genre not in {entry["genre"] for entry in stats(api)["genres"]}

    # WHEN the user adds an album of a new genre, THEN it is counted in the next answer
    assert api.post(album(free_rank, Genre=genre, Year=1901)).status_code == 201
    counted = stats(api)
    assert {"genre": genre, "count": 1} in counted["genres"]
    assert any(entry["decade"] == 1900 for entry in counted["decades"])  # no seeded album is that old

    # WHEN they change its genre to another spelling of the same name, THEN it is still one genre, spelled anew
    changed = api.put(free_rank, {"Genre": genre.upper().replace(" ", "  ") + "!", "version": 1})
    assert changed.status_code == 200, changed.text
    assert {"genre": changed.json()["Genre"], "count": 1} in stats(api)["genres"]

    # WHEN they delete it, THEN the genre is gone
    assert api.delete(free_rank).status_code == 204
    assert all(entry["genre"].casefold() != changed.json()["Genre"].casefold() for entry in stats(api)["genres"])
