"""Ranking with uncertainty: models share a rank while their confidence intervals overlap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float


def shared_ranks(intervals: Sequence[Interval | None]) -> list[int | None]:
    """rank = 1 + number of models whose lower bound is above this model's upper bound.

    None (an incomplete set of scores) is never ranked and never outranks anyone.
    """
    lows = sorted(i.low for i in intervals if i is not None)
    ranks: list[int | None] = []
    for interval in intervals:
        if interval is None:
            ranks.append(None)
            continue
        above = len(lows) - _count_at_most(lows, interval.high)
        ranks.append(1 + above)
    return ranks


def _count_at_most(sorted_values: list[float], bound: float) -> int:
    lo, hi = 0, len(sorted_values)
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_values[mid] <= bound:
            lo = mid + 1
        else:
            hi = mid
    return lo


def mean_interval(values: Sequence[float], stderrs: Sequence[float]) -> Interval:
    """Mean over nations with a normal-approximation CI from independent per-nation stderrs."""
    k = len(values)
    mean = sum(values) / k
    se = math.sqrt(sum(s * s for s in stderrs)) / k
    return Interval(mean, max(0.0, mean - Z_95 * se), min(1.0, mean + Z_95 * se))
