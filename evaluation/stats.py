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
    return bootstrap_mean_cis([values], seed, clusters, iters, level)[0]


def bootstrap_mean_cis(
    columns: Sequence[Sequence[float]],
    seed: Sequence[int] | int,
    clusters: Sequence[str] | None = None,
    iters: int = BOOTSTRAP_ITERS,
    level: float = 0.95,
) -> list[tuple[float, float]]:
    """`bootstrap_mean_ci` of several statistics of the same items (a slice cell's metrics:
    one column of per-item values each), all from the same replicates: one draw serves every
    column, and the intervals of one cell's metrics agree with each other."""
    n = len(columns[0]) if columns else 0
    if any(len(column) != n for column in columns):
        raise ValueError("every column needs one value per item")
    if n == 0:
        return [(0.0, 0.0)] * len(columns)
    if clusters is not None and len(clusters) != n:
        raise ValueError("one cluster label per value is needed")
    labels = list(clusters) if clusters is not None else list(range(n))
    index: dict[object, int] = {}
    for label in labels:
        index.setdefault(label, len(index))
    groups = np.fromiter((index[label] for label in labels), dtype=np.int64, count=n)
    k = len(index)
    # Per column, each cluster's sum; and each cluster's number of items.
    sums = [np.bincount(groups, weights=np.asarray(c, dtype=float), minlength=k) for c in columns]
    counts = np.bincount(groups, minlength=k).astype(float)
    rng = np.random.default_rng(list(seed) if not isinstance(seed, int) else seed)
    means = np.empty((iters, len(columns)))
    # Chunks keep memory at chunk x k whatever the number of iterations.
    chunk = max(1, min(iters, 2_000_000 // k))
    for start in range(0, iters, chunk):
        size = min(chunk, iters - start)
        # k cluster indices drawn uniformly with replacement per replicate: the same
        # distribution as multinomial(k, 1/k) weights, about ten times faster to draw, which is
        # most of a DiverValue-Bench run beyond lm-eval (many slices x metrics x 10,000 iters).
        picks = rng.integers(0, k, size=(size, k))
        items = np.maximum(counts[picks].sum(axis=1), 1.0)
        for column, column_sums in enumerate(sums):
            means[start : start + size, column] = column_sums[picks].sum(axis=1) / items
    tail = (1.0 - level) / 2 * 100
    lows, highs = np.percentile(means, [tail, 100 - tail], axis=0)
    return [(float(low), float(high)) for low, high in zip(lows, highs, strict=True)]


def cluster_indices(labels: Sequence[object]) -> np.ndarray:
    """Each label's cluster number, in order of first appearance."""
    index: dict[object, int] = {}
    for label in labels:
        index.setdefault(label, len(index))
    return np.fromiter((index[label] for label in labels), dtype=np.int64, count=len(labels))


def resampled_means(
    sums: np.ndarray, counts: np.ndarray, seed: Sequence[int] | int, iters: int = BOOTSTRAP_ITERS
) -> np.ndarray:
    """Means of several subsets of the items (columns) under the same bootstrap replicates of
    clusters (rows), drawn as `bootstrap_mean_cis` draws them.

    `sums[c, j]` and `counts[c, j]` are the sum and number of cluster c's items in subset j.
    Unlike `bootstrap_mean_cis`, whose columns are statistics of the same items, each subset
    here holds its own items (a model's slices of one dimension), so each column has its own
    counts; one replicate's draw serves every subset, so a statistic of several subsets' means
    (best minus worst) is resampled as one. The picks are turned into per-cluster weights and
    multiplied through, which serves dozens of subsets at once. Returns an iters x subsets
    array; NaN where a replicate holds none of a subset's items.
    """
    k = sums.shape[0]
    rng = np.random.default_rng(list(seed) if not isinstance(seed, int) else seed)
    means = np.empty((iters, sums.shape[1]))
    chunk = max(1, min(iters, 2_000_000 // max(k, 1)))
    # Whole-number sums and counts (a correct rate's 0s and 1s) whose products with any
    # replicate's weights stay below 2**24 are multiplied in float32, where they are as exact
    # as in float64 and twice as fast: the products are most of a NaVAB rank spread (26,200
    # items x 150 models x 1,000 replicates). Other values keep float64.
    table = np.concatenate([sums, counts], axis=1)
    exact = (
        bool(np.all(table == np.round(table))) and k * float(np.abs(table).max(initial=0)) < 2**24
    )
    table = table.astype(np.float32 if exact else np.float64)
    width = sums.shape[1]
    for start in range(0, iters, chunk):
        size = min(chunk, iters - start)
        picks = rng.integers(0, k, size=(size, k))
        rows = np.repeat(np.arange(size), k)
        weights = np.bincount(rows * k + picks.ravel(), minlength=size * k).reshape(size, k)
        products = (weights.astype(table.dtype) @ table).astype(np.float64)
        found, totals = products[:, :width], products[:, width:]
        with np.errstate(invalid="ignore", divide="ignore"):
            means[start : start + size] = np.where(totals > 0, found / totals, np.nan)
    return means
