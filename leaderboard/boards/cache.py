"""Board caching with explicit invalidation: a version number bumped whenever results change.

Every cached value's key carries the current version, so bumping it makes all older entries
unreachable at once (they expire on their own); no key listing or pattern delete is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from leaderboard.boards.queries import Board, BoardQuery, build_board

VERSION_KEY = "board-version"
TIMEOUT_S = 3600

T = TypeVar("T")


def board_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def invalidate_boards() -> None:
    """Called when scores, models or releases change; old entries simply stop being read."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def cached_value(key: str, build: Callable[[], T]) -> T:
    """`build()` once per board version for `key` (anything derived from boards)."""
    versioned = f"{key}|v{board_version()}"
    value: T | None = cache.get(versioned)
    if value is None:
        value = build()
        cache.set(versioned, value, TIMEOUT_S)
    return value


def cached_board(query: BoardQuery) -> Board:
    return cached_value(query.cache_key(), lambda: build_board(query))
