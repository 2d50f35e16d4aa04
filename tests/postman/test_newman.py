"""The Postman collection under newman, as one pytest test: `make test STACK=docker` runs it inside the pytest
session whose fixture holds the container stack up. (`make test-postman` runs run.py directly.)"""

from __future__ import annotations

import pytest

from tests.postman import run

pytestmark = pytest.mark.integration


def test_the_postman_collection_passes_under_newman() -> None:
    assert run.main() == 0
