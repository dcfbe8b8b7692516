"""Fixtures of the D1 tests: the loopback D1 API that real wrangler and the step talk to."""

from __future__ import annotations

from typing import Iterator

import pytest

from local.d1_api import D1Api


@pytest.fixture
def api() -> Iterator[D1Api]:
    """The loopback D1 API, one per test (its databases start empty)."""
    server = D1Api()
    yield server
    server.close()
