"""One job's account with its provider: requests, tokens, estimated cost, a budget, and a
response cache keyed on model and request, so a retried or resumed job never pays twice.

The runner opens a session around an evaluation (`with metering(...) as session:`); the chat
client picks it up when it is created, so the usage survives a failure mid-job. A retried
job's session starts from the usage its earlier attempts recorded (`usage=`): the spend and
the budget are the job's, not one attempt's.

The budget is never overshot by requests in flight: before a request is sent, the most it
can cost (its prompt's bytes as input tokens, at most one token each, and its `max_tokens`)
is reserved, and the request is refused where the spend plus every reservation would pass
the budget; the answer's own `usage` then settles the reservation.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evaluation.errors import BudgetExceeded
from evaluation.providers.limits import SharedLimits

__all__ = ["BudgetExceeded", "JobSession", "Usage", "metering"]

#: the longest `Retry-After` a request waits out in place; a longer one stops the job's run
#: (`ProviderBusy`) for the site to queue it again once the wait is over
RETRY_AFTER_CAP_S = 30.0


@dataclass
class Usage:
    requests: int = 0  # answered by the provider (billed)
    cached: int = 0  # answered from the cache (not billed again)
    retries: int = 0  # 429, 5xx, timeouts and malformed answers retried
    input_tokens: int = 0
    output_tokens: int = 0
    #: requests whose answer carried no `usage`: their tokens are estimated (4 characters each)
    estimated: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"cost_usd": round(self.cost_usd, 6)}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Usage:
        """The usage a job stored (`to_dict`, perhaps with other keys beside it)."""
        known = {f for f in cls.__dataclass_fields__ if f in stored}
        values: dict[str, Any] = {f: stored[f] for f in known}
        return cls(**values)


@dataclass(frozen=True)
class Prices:
    """USD per million tokens, as the provider's price list says."""

    input_per_m: float = 0.0
    output_per_m: float = 0.0

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_m + output_tokens * self.output_per_m) / 1e6


class JobSession:
    def __init__(
        self,
        budget_usd: float | None = None,
        cache_dir: Path | None = None,
        usage: Usage | None = None,
        limits: SharedLimits | None = None,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
    ) -> None:
        if budget_usd is not None and budget_usd < 0:
            raise ValueError("a budget cannot be negative")
        if retry_after_cap_s < 0:
            raise ValueError("the Retry-After cap cannot be negative")
        #: where providers' limits are shared with other workers (None: this process alone)
        self.limits = limits
        self.retry_after_cap_s = retry_after_cap_s
        self.budget_usd = budget_usd
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.usage = usage if usage is not None else Usage()
        #: the most the requests in flight can still cost
        self.reserved_usd = 0.0
        #: the most the request the budget refused could have cost
        self.refused_usd: float | None = None
        self._lock = threading.Lock()

    # -- budget ------------------------------------------------------------------------

    def budget_exceeded(self) -> BudgetExceeded:
        """The stop, worded from the usage as it stands (ask again once the requests in
        flight have landed, so that the message counts what the job stores)."""
        after = f"${self.usage.cost_usd:.4f} estimated after {self.usage.requests} requests"
        if self.refused_usd is not None:
            after += f"; the next could cost up to ${self.refused_usd:.4f}"
        return BudgetExceeded(
            f"Stopped: the job's budget of ${self.budget_usd:.4f} is spent ({after})."
        )

    def reserve(self, worst_usd: float) -> float:
        """Before a billed request: hold the most it can cost, or refuse it where the budget
        cannot pay for it on top of the spend and the requests in flight."""
        with self._lock:
            if self.budget_usd is not None and (
                self.usage.cost_usd + self.reserved_usd + worst_usd > self.budget_usd
            ):
                self.refused_usd = worst_usd
                raise self.budget_exceeded()
            self.reserved_usd += worst_usd
        return worst_usd

    def release(self, reserved_usd: float) -> None:
        """A request that was never answered (it failed, or it was refused) costs nothing."""
        with self._lock:
            self.reserved_usd = max(0.0, self.reserved_usd - reserved_usd)

    def record(
        self,
        input_tokens: int,
        output_tokens: int,
        prices: Prices,
        estimated: bool,
        reserved_usd: float = 0.0,
    ) -> None:
        """An answered request, billed; its reservation (if any) is settled."""
        with self._lock:
            self.reserved_usd = max(0.0, self.reserved_usd - reserved_usd)
            self.usage.requests += 1
            self.usage.input_tokens += input_tokens
            self.usage.output_tokens += output_tokens
            self.usage.estimated += int(estimated)
            self.usage.cost_usd += prices.cost(input_tokens, output_tokens)

    def record_retry(self) -> None:
        with self._lock:
            self.usage.retries += 1

    # -- cache -------------------------------------------------------------------------

    @staticmethod
    def cache_key(url: str, payload: dict[str, Any]) -> str:
        # The payload names the model and holds every generation setting and the seed.
        text = json.dumps({"url": url, "payload": payload}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"

    def cached(self, key: str) -> dict[str, Any] | None:
        path = self._cache_path(key)
        if path is None or not path.is_file():
            return None
        try:
            answer: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a torn write: ask again
        with self._lock:
            self.usage.cached += 1
        return answer

    def store(self, key: str, answer: dict[str, Any]) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{threading.get_ident()}.tmp")
        partial.write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)  # atomic: a reader never sees half an answer


_current: ContextVar[JobSession | None] = ContextVar("provider_session", default=None)


def current_session() -> JobSession:
    """The session opened around this evaluation, or a fresh unmetered one."""
    return _current.get() or JobSession()


@contextmanager
def metering(
    budget_usd: float | None = None,
    cache_dir: Path | None = None,
    usage: Usage | None = None,
    limits: SharedLimits | None = None,
    retry_after_cap_s: float = RETRY_AFTER_CAP_S,
) -> Iterator[JobSession]:
    """A session for one job: `usage` carries what the job's earlier attempts spent;
    `limits` shares the providers' limits with other workers."""
    session = JobSession(budget_usd, cache_dir, usage, limits, retry_after_cap_s)
    token = _current.set(session)
    try:
        yield session
    finally:
        _current.reset(token)
