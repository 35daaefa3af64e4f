"""Board tests share the process-wide cache: start each test from an empty one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from leaderboard.boards.cache import forget_board_version
from leaderboard.catalog.models import DatasetRelease
from tests.factories import make_release


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    # The version a test remembers belongs to its own (rolled back) database.
    forget_board_version()
    cache.clear()
    yield
    cache.clear()
    forget_board_version()


@pytest.fixture
def release(db: None) -> DatasetRelease:
    return make_release(per_cell=4, signal=False)
