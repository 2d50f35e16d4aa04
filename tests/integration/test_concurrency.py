"""Concurrent writers never overwrite each other silently: the conditional writes decide, not the client."""

from concurrent.futures import ThreadPoolExecutor

from tests.clients import Api
from tests.integration.conftest import album


def test_parallel_creates_of_one_rank_make_exactly_one_album(api: Api, free_rank: int) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda i: api.post(album(free_rank, Album=f"Writer {i}")).status_code, range(20)))
    assert sorted(statuses) == [201] + [409] * 19
    stored = api.get(rank=free_rank).json()
    assert stored["version"] == 1 and stored["Album"].startswith("Writer ")


def test_parallel_updates_of_one_version_let_exactly_one_win(api: Api, free_rank: int) -> None:
    api.post(album(free_rank))
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda i: api.put(free_rank, {"Album": f"Editor {i}", "version": 1}), range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9
    winner = next(r.json() for r in responses if r.status_code == 200)
    stored = api.get(rank=free_rank).json()
    assert stored["version"] == 2 and stored["Album"] == winner["Album"]
