"""One job's account with its provider: requests, tokens, estimated cost, a budget, and a
response cache keyed on model and request, so a retried or resumed job never pays twice.

The runner opens a session around an evaluation (`with metering(...) as session:`); the chat
client picks it up when it is created, so the usage survives a failure mid-job.
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

from evaluation.errors import ModelError


class BudgetExceeded(ModelError):
    """The job's estimated cost reached its budget; it stops with this message."""


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


@dataclass(frozen=True)
class Prices:
    """USD per million tokens, as the provider's price list says."""

    input_per_m: float = 0.0
    output_per_m: float = 0.0

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_m + output_tokens * self.output_per_m) / 1e6


class JobSession:
    def __init__(self, budget_usd: float | None = None, cache_dir: Path | None = None) -> None:
        if budget_usd is not None and budget_usd < 0:
            raise ValueError("a budget cannot be negative")
        self.budget_usd = budget_usd
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.usage = Usage()
        self._lock = threading.Lock()

    # -- budget ------------------------------------------------------------------------

    def check_budget(self) -> None:
        """Before each billed request: refuse once the spend has reached the budget."""
        if self.budget_usd is not None and self.usage.cost_usd >= self.budget_usd:
            raise BudgetExceeded(
                f"Stopped: the job's budget of ${self.budget_usd:.4f} is spent "
                f"(${self.usage.cost_usd:.4f} estimated after {self.usage.requests} requests)."
            )

    def record(
        self, input_tokens: int, output_tokens: int, prices: Prices, estimated: bool
    ) -> None:
        with self._lock:
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
    budget_usd: float | None = None, cache_dir: Path | None = None
) -> Iterator[JobSession]:
    session = JobSession(budget_usd, cache_dir)
    token = _current.set(session)
    try:
        yield session
    finally:
        _current.reset(token)
