"""Board caching with explicit invalidation: a version number bumped whenever results change.

Every cached value's key carries the current version (one row in the database, read with one
primary-key query), so bumping it makes all older entries unreachable at once, in every
process; they expire on their own. No key listing or pattern delete is needed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import F

from leaderboard.boards.models import BoardVersion

TIMEOUT_S = 3600

T = TypeVar("T")


def _fresh_version() -> int:
    # Versions start from the clock, so a version created after the row was lost (a flushed
    # test database) can never equal one a process still remembers.
    return time.time_ns() // 1000


class _VersionMemo:
    """The version this process read last, and when (see BOARD_VERSION_MEMO_MS); one tuple,
    replaced whole, so threads never see a value with another one's time."""

    last: tuple[int, float] | None = None


def board_version() -> int:
    """The current version, read from the database (one query)."""
    version = BoardVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    if version is None:
        BoardVersion.objects.bulk_create(
            [BoardVersion(pk=1, version=_fresh_version())], ignore_conflicts=True
        )
        version = BoardVersion.objects.values_list("version", flat=True).get(pk=1)
    _VersionMemo.last = (version, time.monotonic())
    return version


def recent_board_version() -> int:
    """The version as read at most BOARD_VERSION_MEMO_MS ago: no query for most requests,
    at the price of showing another process's change that much later."""
    last = _VersionMemo.last
    if last is not None and (time.monotonic() - last[1]) * 1000 < settings.BOARD_VERSION_MEMO_MS:
        return last[0]
    return board_version()


def forget_board_version() -> None:
    _VersionMemo.last = None


def invalidate_boards() -> None:
    """Called (after commit) when scores, models or releases change."""
    if not BoardVersion.objects.filter(pk=1).update(version=F("version") + 1):
        BoardVersion.objects.bulk_create(
            [BoardVersion(pk=1, version=_fresh_version())], ignore_conflicts=True
        )
    forget_board_version()  # this process shows its own change at once


def versioned_key(key: str, *, recent: bool = False) -> str:
    """KEY as of the current board version (one primary-key query), or as of the version
    read lately (`recent_board_version`)."""
    return f"{key}|v{recent_board_version() if recent else board_version()}"


class _Pending(threading.local):
    """What a request has built for the cache, stored once its response is sent: a visitor
    who builds a board does not wait for it to be pickled and written (a tenth of a cold
    1,000-model NaVAB board). None outside a request (a worker, a command): stored at once."""

    values: dict[str, Any] | None = None


_pending = _Pending()


def cached_value(key: str, build: Callable[[], T]) -> T:
    """`build()` once per board version for `key` (anything derived from boards)."""
    versioned = versioned_key(key)
    pending = _pending.values
    if pending is not None and versioned in pending:
        return cast(T, pending[versioned])  # built earlier in this request, not yet stored
    value: T | None = cache.get(versioned)
    if value is None:
        value = build()
        if pending is None:
            cache.set(versioned, value, TIMEOUT_S)
        else:
            pending[versioned] = value
    return value


def hold_stores(**_: Any) -> None:
    """On request_started: this thread's request keeps what it builds until it is sent."""
    store_held()
    _pending.values = {}


def store_held(**_: Any) -> None:
    """On request_finished (once the response is sent), and before a thread's next request:
    store what the request built."""
    held, _pending.values = _pending.values, None
    if held:
        cache.set_many(held, TIMEOUT_S)
