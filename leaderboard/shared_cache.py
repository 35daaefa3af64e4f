"""The shared cache (`CACHE_URL`, Redis), with this process's memory standing in while it is down.

Django's Redis backend raises on every call when the server cannot be reached, and every
request reads the cache: DRF's throttles, the board cache, the form throttles. A Redis restart
(broker and cache often share one) would answer every API request and board page with a 500.
Here a call that cannot reach Redis is answered by a local-memory cache instead: pages are
served (cached per process, as with no `CACHE_URL`; board keys carry the board version, so
nothing stale shows) and throttles count per process. After a failure Redis is left alone for
`RETRY_S` seconds rather than tried by every request, and the log says when an outage starts
and when it ends, once each.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

import redis.exceptions
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

RETRY_S = 5.0
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# Every RedisCache method that talks to the server (the others call these).
GUARDED = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


class Outage:
    """Whether one Redis is down, shared by every cache object of the process that uses it
    (Django makes one per thread): one warning per outage, not one per thread."""

    def __init__(self) -> None:
        self.retry_at = 0.0  # time.monotonic() before which Redis is not tried
        self.down = False
        self.lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            self.retry_at = time.monotonic() + RETRY_S
            first, self.down = not self.down, True
        if first:
            log.warning(
                "The cache's Redis (CACHE_URL) cannot be reached (%s): serving from this "
                "process's memory, throttles counted per process, until it answers again.",
                type(exc).__name__,
            )

    def answered(self) -> None:
        with self.lock:
            back, self.down = self.down, False
        if back:
            log.warning("The cache's Redis (CACHE_URL) answers again: the shared cache is back.")


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        with _outages_lock:
            self.outage = _outages.setdefault(server, Outage())
        # Local-memory caches of one name share their store: every thread sees the same one.
        self.local = LocMemCache(f"fallback:{server}", params)


def _guarded(name: str) -> Any:
    shared = getattr(RedisCache, name)
    local = getattr(LocMemCache, name)

    @functools.wraps(shared)
    def method(self: FallbackRedisCache, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() >= self.outage.retry_at:
            try:
                result = shared(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self.outage.failed(exc)
            else:
                if self.outage.down:
                    self.outage.answered()
                    self.local.clear()  # what the outage left must not show in the next one
                return result
        return local(self.local, *args, **kwargs)

    return method


for _name in GUARDED:
    setattr(FallbackRedisCache, _name, _guarded(_name))
