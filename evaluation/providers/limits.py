"""A provider's limits held across every worker: requests per minute and requests in flight.

The limits live in Redis (`SharedLimits(url, prefix)`), so N workers together never send more
than the provider allows; each change is one Lua script, atomic on the server and timed by the
server's clock (workers' clocks may differ):

- requests per minute: a token bucket holding one token, refilled every 60/rpm seconds (a
  request reserves the next free start time; any window of 60 s then holds at most `rpm`
  starts, whichever workers sent them). A provider's `Retry-After` pauses every worker's
  requests to it, not only the one that was told, whether or not it has a rate limit; a
  request that would wait longer than its caller waits in place (`slot(longest_pause_s)`) is
  not sent: `ProviderPaused` says how long the pause has left (the site queues the job again
  for then);
- concurrency: a lease per request in flight (a sorted set of holders, each with an expiry),
  so a worker killed mid-request frees its place once its lease (the request's timeout plus a
  margin) runs out.

While Redis cannot be reached, each process keeps the limits by itself (spacing its own
requests to the rate; its thread pool already bounds what it has in flight): N workers may
then together send up to N times the limit. A warning says when an outage starts and when it
ends, once each, and Redis is tried again after `RETRY_S` (as `leaderboard/shared_cache.py`
does for the site's cache).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

RETRY_S = 5.0
#: how long a full provider's would-be sender waits before asking again for a place
POLL_S = 0.02
#: a lease outlives its request's timeout by this much (then it is the request's, not lost)
LEASE_MARGIN_S = 30.0

# KEYS[1]: the next free start (µs, server time); KEYS[2]: the end of the provider's pause.
# ARGV[1]: the interval (µs, 0 without a rate limit); ARGV[2]: the longest pause the caller
# waits out (µs). Returns how long the caller waits (µs) before its reserved start, or, where
# the pause has longer than that left, minus what it has left (nothing reserved).
_RATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused - now > tonumber(ARGV[2]) then
  return now - paused
end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, nxt, paused)
local after = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.ceil((after - now) / 1000) + 1000)
return start - now
"""

# KEYS[1]: the end of the provider's pause. ARGV[1]: how long it asked everyone to wait (µs).
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
local after = math.max(paused, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.ceil((after - now) / 1000) + 1000)
return after - now
"""

# KEYS[1]: the holders (sorted set, score = lease expiry in µs). ARGV: limit, holder, lease.
# Returns 1 when the holder got a place, 0 when the provider is full.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) / 1000) + 1000)
  return 1
end
return 0
"""


class ProviderPaused(Exception):
    """The provider asked every worker to wait `wait_s` seconds more than the caller waits in
    place: the request was not sent."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"the provider asked to wait {wait_s:.0f} s more")
        self.wait_s = wait_s


class _Outage:
    """Whether one Redis is down, for every limiter of the process using it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.retry_at = 0.0
        self.down = False
        self.lock = threading.Lock()

    def usable(self) -> bool:
        return time.monotonic() >= self.retry_at

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            self.retry_at = time.monotonic() + RETRY_S
            first, self.down = not self.down, True
        if first:
            log.warning(
                "The provider limits' Redis cannot be reached (%s): each worker process keeps "
                "the providers' limits by itself until it answers again, so the workers "
                "together may exceed them.",
                type(exc).__name__,
            )

    def answered(self) -> None:
        with self.lock:
            back, self.down = self.down, False
        if back:
            log.warning("The provider limits' Redis answers again: limits are shared again.")


class _LocalSpacing:
    """This process's stand-in for the shared bucket and pause (the scripts above, in one
    process): start times 60/rpm seconds apart, none before the provider's pause ends."""

    def __init__(self) -> None:
        self.next_at = 0.0
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def reserve(self, interval: float, longest_pause_s: float) -> float:
        with self.lock:
            now = time.monotonic()
            if self.paused_until - now > longest_pause_s:
                return now - self.paused_until
            start = max(now, self.next_at, self.paused_until)
            self.next_at = start + interval
        return start - now

    def follow(self, start_in: float, interval: float) -> None:
        """A start the shared bucket reserved for this process: should Redis go, this
        process's own spacing goes on after it, not from scratch (a burst at the switch)."""
        with self.lock:
            self.next_at = max(self.next_at, time.monotonic() + start_in + interval)

    def pause(self, seconds: float) -> None:
        with self.lock:
            self.paused_until = max(self.paused_until, time.monotonic() + seconds)


class ProviderLimiter:
    """One provider's limits, as seen from this process."""

    def __init__(
        self,
        store: SharedLimits | None,
        key: str,
        requests_per_minute: float | None,
        concurrency: int | None,
        lease_s: float,
    ) -> None:
        self.store = store
        self.key = key
        self.interval_s = 60.0 / requests_per_minute if requests_per_minute else None
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.local = _local_spacing(key)
        #: this process's leases whose release Redis did not hear (it was unreachable),
        #: released once it answers again: a lost release does not hold a place until its
        #: lease runs out (the request's timeout plus LEASE_MARGIN_S)
        self.unreleased = _unreleased(key)

    @contextmanager
    def slot(self, longest_pause_s: float = float("inf")) -> Iterator[None]:
        """Hold a place among the provider's requests in flight, then wait for the next free
        start: the request is sent inside. (A place first: waiting for one after reserving a
        start would move starts closer together than the rate allows.) Where the provider's
        pause has more than LONGEST_PAUSE_S left, `ProviderPaused` instead."""
        holder = self._acquire()
        try:
            self._wait_for_start(longest_pause_s)
            yield
        finally:
            if holder is not None:
                self._release(holder)

    def pause(self, seconds: float) -> None:
        """The provider asked to wait (Retry-After): no worker starts a request before then."""
        if seconds <= 0:
            return
        self.local.pause(seconds)
        if self.store is not None:
            self.store.run(_PAUSE, [self._name("paused")], [int(seconds * 1e6)])

    def _name(self, part: str) -> str:
        assert self.store is not None
        return f"{self.store.prefix}:{self.key}:{part}"

    def _wait_for_start(self, longest_pause_s: float) -> None:
        # Asked without a rate limit too: a provider's pause holds every request.
        interval = self.interval_s or 0.0
        waited = None
        if self.store is not None:
            longest_us = int(min(longest_pause_s, 1e9) * 1e6)  # Lua numbers: no infinity
            waited = self.store.run(
                _RATE,
                [self._name("rate"), self._name("paused")],
                [int(interval * 1e6), longest_us],
            )
        if waited is None:
            wait_s = self.local.reserve(interval, longest_pause_s)
        else:
            wait_s = waited / 1e6
            if wait_s >= 0:
                self.local.follow(wait_s, interval)
        if wait_s < 0:
            raise ProviderPaused(-wait_s)
        if wait_s > 0:
            time.sleep(wait_s)

    def _acquire(self) -> str | None:
        """A lease on one place (its holder id), or None where no shared limit applies."""
        if self.store is None or not self.concurrency:
            return None
        holder = f"{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
        args = [self.concurrency, holder, int(self.lease_s * 1e6)]
        self._release_lost()
        while True:
            got = self.store.run(_ACQUIRE, [self._name("in-flight")], args)
            if got is None:
                return None  # Redis is down: this process's own pool bounds it
            if got:
                return holder
            time.sleep(POLL_S)

    def _release(self, holder: str) -> None:
        assert self.store is not None
        if self.store.command("zrem", self._name("in-flight"), holder) is None:
            self.unreleased.add(holder)

    def _release_lost(self) -> None:
        assert self.store is not None
        lost = self.unreleased.take()
        if lost and self.store.command("zrem", self._name("in-flight"), *lost) is None:
            self.unreleased.update(lost)


class SharedLimits:
    """The Redis holding every provider's limits (`url`), under `prefix` (sites or test runs
    sharing one Redis keep apart)."""

    def __init__(self, url: str, prefix: str = "provider-limits") -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self.client: Any = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
        self.outage = _outage(url)

    def limiter(
        self,
        base_url: str,
        account: str | None,
        requests_per_minute: float | None,
        concurrency: int | None,
        timeout_s: float,
    ) -> ProviderLimiter:
        """The limiter of the provider at BASE_URL for ACCOUNT (the name of the key's secret:
        two accounts at one provider have a limit each)."""
        return ProviderLimiter(
            self,
            provider_key(base_url, account),
            requests_per_minute,
            concurrency,
            timeout_s + LEASE_MARGIN_S,
        )

    def run(self, script: str, keys: list[str], args: list[Any]) -> int | None:
        """The script's answer, or None while Redis cannot be reached."""
        return self._call(lambda: int(self.client.eval(script, len(keys), *keys, *args)))

    def command(self, name: str, *args: Any) -> Any:
        return self._call(lambda: getattr(self.client, name)(*args))

    def _call(self, call: Any) -> Any:
        import redis.exceptions

        if not self.outage.usable():
            return None
        try:
            answer = call()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            self.outage.failed(exc)
            return None
        if self.outage.down:
            self.outage.answered()
        return answer


def provider_key(base_url: str, account: str | None) -> str:
    """A provider and account as a short key (the URL may hold a path worth not printing)."""
    return hashlib.sha256(f"{base_url}|{account or ''}".encode()).hexdigest()[:16]


def local_limiter(
    base_url: str, account: str | None, requests_per_minute: float | None
) -> ProviderLimiter:
    """The limits kept by this process alone (no shared Redis configured)."""
    return ProviderLimiter(None, provider_key(base_url, account), requests_per_minute, None, 0.0)


class _Unreleased:
    """Leases of one provider this process could not release (a set shared by threads)."""

    def __init__(self) -> None:
        self.holders: set[str] = set()
        self.lock = threading.Lock()

    def add(self, holder: str) -> None:
        with self.lock:
            self.holders.add(holder)

    def update(self, holders: list[str]) -> None:
        with self.lock:
            self.holders.update(holders)

    def take(self) -> list[str]:
        with self.lock:
            taken, self.holders = sorted(self.holders), set()
        return taken


_registry_lock = threading.Lock()
_outages: dict[str, _Outage] = {}
_spacings: dict[str, _LocalSpacing] = {}
_unreleased_leases: dict[str, _Unreleased] = {}


def _outage(url: str) -> _Outage:
    with _registry_lock:
        return _outages.setdefault(url, _Outage(url))


def _local_spacing(key: str) -> _LocalSpacing:
    with _registry_lock:
        return _spacings.setdefault(key, _LocalSpacing())


def _unreleased(key: str) -> _Unreleased:
    with _registry_lock:
        return _unreleased_leases.setdefault(key, _Unreleased())
