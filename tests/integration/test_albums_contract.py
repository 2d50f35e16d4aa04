"""The Albums API contract end to end: API Gateway -> authorizer -> Lambda -> DynamoDB, with a real ID token."""

from tests.clients import Api, User
from tests.integration.conftest import album


def test_lists_the_seeded_albums_in_rank_order_a_page_at_a_time(api: Api) -> None:
    first = api.get()
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 50  # the default page
    assert [a["Rank"] for a in body["items"]] == list(range(1, 51))
    assert body["items"][0]["Album"] == "Sgt. Pepper's Lonely Hearts Club Band"
    assert body["nextToken"]


def test_pages_cover_every_seeded_album_once(api: Api) -> None:
    ranks: list[int] = []
    token = None
    for _ in range(20):
        params = {"limit": 100, **({"nextToken": token} if token else {})}
        body = api.get(**params).json()
        ranks += [a["Rank"] for a in body["items"]]
        token = body["nextToken"]
        if not token:
            break
    assert token is None, "paging did not end"
    assert ranks == sorted(ranks) and len(ranks) == len(set(ranks))
    assert set(range(1, 501)) <= set(ranks)


def test_one_album_by_rank_and_unknown_rank(api: Api) -> None:
    found = api.get(rank=359)
    assert found.status_code == 200
    assert found.json()["Album"] == "Honky Château"  # the repaired seed text
    missing = api.get(rank=777_777)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_create_update_delete_lifecycle(api: Api, user: User, free_rank: int) -> None:
    created = api.post(album(free_rank))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1 and body["createdBy"] == user.sub and body["Rank"] == free_rank

    updated = api.put(free_rank, {"Album": "  Renamed  ", "version": 1})
    assert updated.status_code == 200, updated.text
    assert updated.json()["Album"] == "Renamed" and updated.json()["version"] == 2
    assert api.get(rank=free_rank).json()["Album"] == "Renamed"

    deleted = api.delete(free_rank)
    assert deleted.status_code == 204
    assert api.get(rank=free_rank).status_code == 404
    assert api.delete(free_rank).status_code == 404


def test_rank_taken_is_409_and_keeps_the_first(api: Api, free_rank: int) -> None:
    assert api.post(album(free_rank, Album="First")).status_code == 201
    second = api.post(album(free_rank, Album="Second"))
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "rank_taken"
    assert api.get(rank=free_rank).json()["Album"] == "First"


def test_stale_version_is_409_with_the_current_album(api: Api, free_rank: int) -> None:
    api.post(album(free_rank))
    assert api.put(free_rank, {"Year": 2001, "version": 1}).status_code == 200
    stale = api.put(free_rank, {"Year": 2002, "version": 1})
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "version_conflict"
    assert error["current"]["Year"] == 2001 and error["current"]["version"] == 2
    stale_delete = api.delete(free_rank, version=1)
    assert stale_delete.status_code == 409
    assert api.delete(free_rank, version=2).status_code == 204


def test_update_of_unknown_rank_is_404(api: Api) -> None:
    assert api.put(876_543, {"Album": "Nobody", "version": 1}).status_code == 404


def test_invalid_bodies_are_400_naming_each_field(api: Api, free_rank: int) -> None:
    response = api.post({"Rank": free_rank, "Album": "", "Artist": "x" * 201, "Genre": "Rock\u0007", "Year": 1850,
                         "Label": "E\u202eMI", "Studio": "Abbey Road"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"Album", "Artist", "Genre", "Year", "Label", "Studio"} <= set(fields)
    assert api.get(rank=free_rank).status_code == 404  # nothing was written


def test_malformed_json_and_oversized_bodies_are_400(api: Api) -> None:
    malformed = api.http.post(api.url, data="{not json", headers={"Content-Type": "application/json"}, timeout=30)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "validation_error"
    huge = api.http.post(api.url, data="{" + " " * 17_000 + "}", headers={"Content-Type": "application/json"},
                         timeout=30)
    assert huge.status_code == 400


def test_rank_cannot_be_changed_by_put(api: Api, free_rank: int) -> None:
    api.post(album(free_rank))
    response = api.put(free_rank, {"Rank": free_rank + 1, "version": 1})
    assert response.status_code == 400 and "Rank" in response.json()["error"]["fields"]


def test_bad_limit_and_token_are_400(api: Api) -> None:
    assert "limit" in api.get(limit=0).json()["error"]["fields"]
    assert "limit" in api.get(limit=101).json()["error"]["fields"]
    assert "nextToken" in api.get(nextToken="not-a-token").json()["error"]["fields"]
