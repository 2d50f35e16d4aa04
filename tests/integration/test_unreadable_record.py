"""An item another tool wrote into the table (no `Album`, `Year` as text) is not a 500 when asked for by rank."""

from __future__ import annotations

from bootstrap.access import client, outputs


def test_get_of_an_unreadable_record_is_a_clear_409(api, free_rank: int) -> None:
    dynamodb = client("dynamodb")
    table = outputs()["TableName"]
    dynamodb.put_item(TableName=table, Item={"Rank": {"N": str(free_rank)}, "Artist": {"S": "Other Tool"},
                                             "Year": {"S": "nineteen ninety"}})
    try:
        response = api.get(rank=free_rank)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "unreadable_album"
        assert f"Album {free_rank}" in response.json()["error"]["message"]
        assert response.headers["Access-Control-Allow-Origin"]
    finally:
        dynamodb.delete_item(TableName=table, Key={"Rank": {"N": str(free_rank)}})
