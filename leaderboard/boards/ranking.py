"""Ranking with uncertainty: models share a rank while their confidence intervals overlap."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float


def shared_ranks(
    intervals: Sequence[Interval | None], *, higher_is_better: bool = True
) -> list[int | None]:
    """rank = 1 + number of models whose lower bound is above this model's upper bound (for a
    metric where lower is better: whose upper bound is below this model's lower bound).

    None (an incomplete set of scores) is never ranked and never outranks anyone.
    """
    if not higher_is_better:
        intervals = [Interval(-i.value, -i.high, -i.low) if i else None for i in intervals]
    lows = sorted(i.low for i in intervals if i is not None)
    ranks: list[int | None] = []
    for interval in intervals:
        if interval is None:
            ranks.append(None)
            continue
        above = len(lows) - bisect_right(lows, interval.high)  # lows at most its high: not above
        ranks.append(1 + above)
    return ranks


def mean_interval(
    values: Sequence[float],
    stderrs: Sequence[float],
    *,
    lower: float | None = 0.0,
    upper: float | None = 1.0,
) -> Interval:
    """Mean over columns with a normal-approximation CI from independent per-column stderrs,
    kept inside the metric's declared bounds (None: unbounded, e.g. a margin)."""
    squares = sum(s * s for s in stderrs)
    return sums_interval(sum(values), squares, len(values), lower=lower, upper=upper)


def sums_interval(
    total: float, squares: float, k: int, *, lower: float | None, upper: float | None
) -> Interval:
    """`mean_interval` of K columns from the sum of their values and of their squared stderrs
    (as a database sums them over hundreds of models)."""
    mean = total / k
    se = math.sqrt(squares) / k
    low, high = mean - Z_95 * se, mean + Z_95 * se
    return Interval(
        mean,
        low if lower is None else max(lower, low),
        high if upper is None else min(upper, high),
    )


def rank_ranges(
    replicates: Sequence[Sequence[float]], *, higher_is_better: bool = True
) -> list[tuple[int, int] | None]:
    """Each model's best and worst rank over bootstrap replicates of every model's score
    (rows: replicates, columns: models). In each replicate a model's rank is 1 + the number
    of models strictly better, so equal scores share the better rank. A replicate where a
    model has no value (NaN: the resample drew none of its items) is left out for everyone:
    ranking the rest of that replicate would flatter the missing model. None for every model
    when no replicate is whole."""
    table = np.asarray(replicates, dtype=float)
    if table.ndim != 2 or table.shape[1] == 0:
        return []
    whole = table[~np.isnan(table).any(axis=1)]
    if not whole.shape[0]:
        return [None] * table.shape[1]
    oriented = whole if higher_is_better else -whole
    # Models strictly above each model in each replicate: those past its last equal in the
    # replicate sorted (a comparison of every pair would take replicates x models^2 memory,
    # a gigabyte at 1,000 models).
    ordered = np.sort(oriented, axis=1)
    models = oriented.shape[1]
    ranks = np.empty(oriented.shape, dtype=np.int64)
    for replicate, (row, sorted_row) in enumerate(zip(oriented, ordered, strict=True)):
        ranks[replicate] = 1 + models - np.searchsorted(sorted_row, row, side="right")
    return [
        (int(low), int(high))
        for low, high in zip(ranks.min(axis=0), ranks.max(axis=0), strict=True)
    ]
