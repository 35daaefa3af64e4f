"""Board caching with explicit invalidation: a version number bumped whenever results change.

Every cached value's key carries the current version, so bumping it makes all older entries
unreachable at once (they expire on their own); no key listing or pattern delete is needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

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


class _Recent:
    """The last few values this process read, by versioned key.

    A 1,000-model board takes tens of milliseconds to unpickle from the cache, more than the
    rest of a request; keeping recent ones as objects skips that. The version in the key keeps
    this exactly as fresh as the shared cache. Values are never mutated once built.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self.lock:
            value = self.values.get(key)
            if value is not None:
                self.values.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.values[key] = value
            self.values.move_to_end(key)
            while len(self.values) > self.size:
                self.values.popitem(last=False)


_recent = _Recent(size=64)


def cached_value(key: str, build: Callable[[], T]) -> T:
    """`build()` once per board version for `key` (anything derived from boards)."""
    versioned = f"{key}|v{board_version()}"
    value: T | None = _recent.get(versioned)
    if value is None:
        value = cache.get(versioned)
        if value is None:
            value = build()
            cache.set(versioned, value, TIMEOUT_S)
        _recent.put(versioned, value)
    return value


def cached_board(query: BoardQuery) -> Board:
    return cached_value(query.cache_key(), lambda: build_board(query))
