"""Board tests share the process-wide cache: start each test from an empty one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from leaderboard.benchmark.models import DatasetRelease
from tests.factories import make_release


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def release(db: None) -> DatasetRelease:
    return make_release(per_cell=4, signal=False)
