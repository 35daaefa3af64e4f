"""Board caching with explicit invalidation: a version number bumped whenever results change."""

from __future__ import annotations

from django.core.cache import cache

from leaderboard.boards.queries import Board, BoardQuery, build_board

VERSION_KEY = "board-version"
TIMEOUT_S = 3600


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


def cached_board(query: BoardQuery) -> Board:
    key = f"{query.cache_key()}|v{board_version()}"
    board = cache.get(key)
    if board is None:
        board = build_board(query)
        cache.set(key, board, TIMEOUT_S)
    return board
