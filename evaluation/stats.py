"""Statistics of a correct rate: standard error and a seeded bootstrap 95% interval."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

BOOTSTRAP_ITERS = 10_000


def correct_rate(outcomes: Sequence[bool]) -> float:
    return sum(outcomes) / len(outcomes) if outcomes else 0.0


def stderr(outcomes: Sequence[bool]) -> float:
    """Standard error of the mean with the sample standard deviation (ddof=1), as lm-eval's
    `acc_stderr`; 0.0 below two items, where it is undefined."""
    n = len(outcomes)
    if n < 2:
        return 0.0
    p = correct_rate(outcomes)
    variance = sum((float(x) - p) ** 2 for x in outcomes) / (n - 1)
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
