"""Statistics of a correct rate: standard error and a seeded bootstrap 95% interval."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

BOOTSTRAP_ITERS = 10_000


def correct_rate(outcomes: Sequence[bool]) -> float:
    return sum(outcomes) / len(outcomes) if outcomes else 0.0


def stderr(values: Sequence[float]) -> float:
    """Standard error of the mean with the sample standard deviation (ddof=1), as lm-eval's
    `acc_stderr` for 0/1 outcomes; 0.0 below two values, where it is undefined."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    variance = sum((float(x) - mean) ** 2 for x in values) / (n - 1)
    return math.sqrt(variance / n)


def cell_seed(seed: int, *labels: str) -> list[int]:
    """A seed per cell: cells stay independent, and a cell's interval does not depend on which
    other cells were evaluated."""
    return [seed, zlib.crc32("/".join(labels).encode())]


def bootstrap_ci(
    outcomes: Sequence[bool],
    seed: Sequence[int] | int,
    iters: int = BOOTSTRAP_ITERS,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the correct rate.

    Resampling n binary outcomes with replacement and taking the mean is the same as drawing
    Binomial(n, p_hat) / n, so that is what is drawn: identical distribution, no n x iters array.
    """
    n = len(outcomes)
    if n == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(list(seed) if not isinstance(seed, int) else seed)
    means = rng.binomial(n, correct_rate(outcomes), size=iters) / n
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


def bootstrap_mean_ci(
    values: Sequence[float],
    seed: Sequence[int] | int,
    clusters: Sequence[str] | None = None,
    iters: int = BOOTSTRAP_ITERS,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of real values (a margin, a score).

    Without `clusters` each item is resampled on its own. With `clusters` (one label per item:
    a user, an article), whole clusters are resampled with replacement and the statistic is
    the mean over the items they hold, because items of one cluster are not independent.
    """
    n = len(values)
    if n == 0:
        return (0.0, 0.0)
    if clusters is not None and len(clusters) != n:
        raise ValueError("one cluster label per value is needed")
    labels = list(clusters) if clusters is not None else list(range(n))
    index: dict[object, int] = {}
    for label in labels:
        index.setdefault(label, len(index))
    groups = np.fromiter((index[label] for label in labels), dtype=np.int64, count=n)
    sums = np.bincount(groups, weights=np.asarray(values, dtype=float))
    counts = np.bincount(groups).astype(float)
    k = len(sums)
    rng = np.random.default_rng(list(seed) if not isinstance(seed, int) else seed)
    means = np.empty(iters)
    # Chunks keep memory at chunk x k whatever the number of iterations.
    chunk = max(1, min(iters, 2_000_000 // max(k, 1)))
    for start in range(0, iters, chunk):
        size = min(chunk, iters - start)
        # k cluster indices drawn uniformly with replacement per replicate: the same
        # distribution as multinomial(k, 1/k) weights, about ten times faster to draw, which is
        # most of a DiverValue-Bench run beyond lm-eval (many slices x metrics x 10,000 iters).
        picks = rng.integers(0, k, size=(size, k))
        means[start : start + size] = sums[picks].sum(axis=1) / np.maximum(
            counts[picks].sum(axis=1), 1.0
        )
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))
