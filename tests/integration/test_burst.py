"""A burst: the test stack (default gate) answers 40 concurrent page requests without a 5xx. It fills the gate, so
it runs with the stack to itself (marker `alone`). What a client turned away or a stuck function gets is in
test_own_stack.py; speed is measured by `make bench` (section 8), not asserted here."""

from __future__ import annotations

import pytest

from bench.burst import burst
from tests.clients import Api


@pytest.mark.alone
def test_forty_clients_at_once_all_get_an_answer(user) -> None:
    result = burst(lambda: Api(user), clients=40, rounds=2)
    assert result["server_errors"] == 0, result["statuses"]
    assert result["statuses"] == {"200": 80}
