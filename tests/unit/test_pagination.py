"""GET /album pages: bucketed GSI + Rank-0 directory. No album lost or repeated, nextToken null exactly at the end."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albums import repository
from albums import table as albums_table
from albums.handlers import create, delete, get
from albums.repository import AlbumRepository, decode_page_token, encode_page_token
from albums.table import seed_albums

from .factory import album_body, call

SPARSE = [5, 999, 1000, 1001, 1500, 2999, 3000, 50_000, 999_999, 1_000_000]


def seed(table: Any, ranks: list[int]) -> None:
    seed_albums(table, [album_body(rank, Album=f"Album {rank}") for rank in ranks])


def walk(limit: int) -> list[list[int]]:
    """All pages through the handler, following nextToken until it is null."""
    pages, token = [], None
    while True:
        query = {"limit": str(limit)} | ({"nextToken": token} if token else {})
        status, body, _ = call(get.handler, "GET", query)
        assert status == 200, body
        pages.append([album["Rank"] for album in body["items"]])
        token = body["nextToken"]
        if token is None:
            return pages
        assert len(pages) < 10_000, "pagination does not terminate"


def assert_complete(pages: list[list[int]], ranks: list[int], limit: int) -> None:
    flat = [rank for page in pages for rank in page]
    assert flat == sorted(set(ranks)), "albums lost, repeated or out of order"
    assert all(len(page) == limit for page in pages[:-1]), "only the last page may be short"
    # nextToken is null exactly at the end: never a trailing empty page (unless the table is empty).
    assert len(pages) == max(1, math.ceil(len(flat) / limit))


@pytest.mark.parametrize("limit", [1, 3, 7, 50, 100])
def test_many_pages_across_dense_and_sparse_buckets(table, limit):
    ranks = sorted({*range(1, 61), *range(990, 1012), *SPARSE})
    seed(table, ranks)

    pages = walk(limit)

    assert_complete(pages, ranks, limit)
    assert len(pages) > 3 or limit >= 50


def test_only_sparse_ranks_with_limit_1(table):
    seed(table, [999_999, 5, 1500])
    assert walk(1) == [[5], [1500], [999_999]]


@pytest.mark.parametrize("count", [14, 21])
def test_an_exact_multiple_of_the_limit_ends_without_an_empty_page(table, count):
    seed(table, list(range(2001, 2001 + count)))
    pages = walk(7)
    assert [len(page) for page in pages] == [7] * (count // 7)


def test_stale_buckets_after_deletes_are_skipped(table):
    for rank in (7, 5_500, 9_100, 12_000):
        assert call(create.handler, "POST", body=album_body(rank))[0] == 201
    for rank in (5_500, 12_000):
        assert call(delete.handler, "DELETE", {"rank": str(rank)})[0] == 204

    assert walk(1) == [[7], [9_100]]
    assert walk(2) == [[7, 9_100]]
    directory = table.get_item(Key={"Rank": 0})["Item"]
    assert albums_table.occupied_buckets(directory) == [0, albums_table.rank_bucket(9_100)]


def test_empty_table_is_one_empty_page(table):
    assert walk(10) == [[]]


def test_directory_item_never_appears_in_a_page(table):
    seed(table, [1, 2])
    pages = walk(100)
    assert pages == [[1, 2]]


def test_a_page_inside_a_bucket_reads_one_partition_and_no_directory(table, monkeypatch):
    seed(table, list(range(3000, 3100)))
    token = encode_page_token(3010)
    reads: list[str] = []
    repo = repository.default_repository()
    for operation in ("query", "get_item"):
        real = getattr(repo._table, operation)
        monkeypatch.setattr(repo._table, operation, _counting(real, operation, reads))

    status, body, _ = call(get.handler, "GET", {"limit": "50", "nextToken": token})

    assert status == 200 and [a["Rank"] for a in body["items"]] == list(range(3011, 3061))
    assert reads == ["query"]


def _counting(real, name, reads):
    def wrapper(**kwargs):
        reads.append(name)
        return real(**kwargs)

    return wrapper


def test_albums_created_behind_the_cursor_are_not_repeated(table):
    seed(table, list(range(1, 11)))
    status, first, _ = call(get.handler, "GET", {"limit": "5"})
    assert status == 200
    seed(table, [3, 4])  # rewritten before the cursor
    assert call(create.handler, "POST", body=album_body(1001))[0] == 201
    _, second, _ = call(get.handler, "GET", {"limit": "50", "nextToken": first["nextToken"]})
    assert [a["Rank"] for a in second["items"]] == [6, 7, 8, 9, 10, 1001]
    assert second["nextToken"] is None


def test_a_bucket_cut_short_by_the_1mb_limit_is_resumed():
    class OneItemPerQuery:
        """Answers like DynamoDB when the 1 MB cap stops a query early: fewer items than Limit, plus a last key."""

        def __init__(self, ranks: list[int]) -> None:
            self.ranks = ranks
            self.queries = 0

        def query(self, *, KeyConditionExpression: Any, Limit: int, **_: Any) -> dict[str, Any]:
            self.queries += 1
            after = KeyConditionExpression._values[1]._values[1]
            rest = [rank for rank in self.ranks if rank > after]
            if not rest:
                return {"Items": []}
            item = _item(rest[0])
            return {"Items": [item], "LastEvaluatedKey": {"Rank": rest[0], "RankBucket": 0}}

        def get_item(self, **_: Any) -> dict[str, Any]:
            return {"Item": {"Rank": 0, "b0": 4}}

    fake = OneItemPerQuery([1, 2, 3, 4])
    page = AlbumRepository(fake).list_page(3)
    assert [a.rank for a in page.albums] == [1, 2, 3]
    assert decode_page_token(page.next_token) == (0, 3)
    assert fake.queries == 4


def _item(rank: int) -> dict[str, Any]:
    return {**album_body(rank), "version": 1, "createdAt": "t", "updatedAt": "t", "createdBy": "c", "updatedBy": "c",
            "RankBucket": rank // albums_table.BUCKET_SIZE}


rank_sets = st.lists(
    st.one_of(
        st.integers(1, 1_000_000),
        st.sampled_from([1, 999, 1000, 1001, 1999, 2000, 999_999, 1_000_000]),
        st.integers(4_990, 5_010),
    ),
    max_size=40,
    unique=True,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ranks=rank_sets, limit=st.integers(1, 12))
def test_any_rank_set_pages_completely(table, ranks, limit):
    _empty(table)
    seed(table, ranks)
    assert_complete(walk(limit), ranks, limit)


def _empty(table: Any) -> None:
    with table.batch_writer() as batch:
        for key in table.scan(ProjectionExpression="#r", ExpressionAttributeNames={"#r": "Rank"})["Items"]:
            batch.delete_item(Key=key)
