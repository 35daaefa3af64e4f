"""How far two protocols agree on one model: the per-item verdicts of two methods scored on
the same items (NaVAB MC and AJ; DiverValue-Bench OPA and PAA).

A verdict is a method's per-item `correct` (MC: the letter holding S; OPA: a positive margin;
PAA: the panel's W). Each method's share of items judged aligned, and their paired
difference, get 95% intervals from the same bootstrap replicates (clusters resampled where the
benchmark's items cluster), so "they disagree" means the difference's interval excludes zero,
not two numbers that merely differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from evaluation.stats import BOOTSTRAP_ITERS, bootstrap_mean_cis


@dataclass(frozen=True)
class Agreement:
    #: items with a verdict under both methods
    n: int
    #: clusters (users) the intervals resampled; None where items are independent
    clusters: int | None
    #: share of items on which the two verdicts are the same
    agree: float
    #: Cohen's kappa: agreement beyond what the two rates give by chance (None where one
    #: method gives the same verdict on every item, and chance explains all of it)
    kappa: float | None
    rate_a: float
    ci_a: tuple[float, float]
    rate_b: float
    ci_b: tuple[float, float]
    #: rate_b - rate_a, from the same items
    diff: float
    ci_diff: tuple[float, float]

    @property
    def disagrees(self) -> bool:
        """The two rates differ beyond their paired interval."""
        return self.ci_diff[0] > 0 or self.ci_diff[1] < 0

    @property
    def one_cluster(self) -> bool:
        """One user's items: resampling one cluster gives no interval."""
        return self.clusters == 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Agreement:
        # JSON has no tuples: the intervals come back as lists.
        intervals = {key: (data[key][0], data[key][1]) for key in ("ci_a", "ci_b", "ci_diff")}
        return cls(**(data | intervals))


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """(observed - chance agreement) / (1 - chance), chance from each side's own rate."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1 - chance)


def _verdict_pair_cis(
    a: Sequence[bool], b: Sequence[bool], seed: Sequence[int] | int
) -> list[tuple[float, float]]:
    """The bootstrap intervals of A's rate, B's rate and their difference over independent
    items. An item is one of four (verdict A, verdict B) pairs, so a resample of N items is
    how many of each it draws: one multinomial draw a replicate, the same distribution as
    drawing N items, at the cost of 4 values instead of N (NaVAB's 63,400 items x 10,000
    replicates took a minute a model)."""
    n = len(a)
    # Pairs in the order (0, 0), (0, 1), (1, 0), (1, 1).
    counts = np.bincount([2 * x + y for x, y in zip(a, b, strict=True)], minlength=4)
    rng = np.random.default_rng(list(seed) if not isinstance(seed, int) else seed)
    draws = rng.multinomial(n, counts / n, size=BOOTSTRAP_ITERS)
    rate_a = (draws[:, 2] + draws[:, 3]) / n
    rate_b = (draws[:, 1] + draws[:, 3]) / n
    columns = np.stack([rate_a, rate_b, rate_b - rate_a], axis=1)
    lows, highs = np.percentile(columns, [2.5, 97.5], axis=0)
    return [(float(low), float(high)) for low, high in zip(lows, highs, strict=True)]


def method_agreement(
    a: Sequence[bool],
    b: Sequence[bool],
    seed: Sequence[int] | int,
    clusters: Sequence[str] | None = None,
) -> Agreement | None:
    """The agreement of verdicts A and B on the same items (in the same order); None without
    items. CLUSTERS, one label per item, resamples whole clusters."""
    n = len(a)
    if len(b) != n or (clusters is not None and len(clusters) != n):
        raise ValueError("one verdict of each method (and one cluster label) per item")
    if n == 0:
        return None
    col_a = [float(x) for x in a]
    col_b = [float(y) for y in b]
    diff = [y - x for x, y in zip(col_a, col_b, strict=True)]
    if clusters is None:
        ci_a, ci_b, ci_diff = _verdict_pair_cis(a, b, seed)
    else:
        ci_a, ci_b, ci_diff = bootstrap_mean_cis([col_a, col_b, diff], seed, clusters)
    rate_a, rate_b = sum(col_a) / n, sum(col_b) / n
    return Agreement(
        n=n,
        clusters=len(set(clusters)) if clusters is not None else None,
        agree=sum(x == y for x, y in zip(a, b, strict=True)) / n,
        kappa=cohen_kappa(a, b),
        rate_a=rate_a,
        ci_a=ci_a,
        rate_b=rate_b,
        ci_b=ci_b,
        diff=rate_b - rate_a,
        ci_diff=ci_diff,
    )
