"""A metric's interval, computed the way its declaration says."""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.benchmarks.contract import IntervalMethod, Metric
from evaluation.stats import bootstrap_ci, bootstrap_mean_ci


def metric_interval(
    metric: Metric,
    values: Sequence[float],
    seed: Sequence[int] | int,
    clusters: Sequence[str] | None = None,
) -> tuple[float, float]:
    """The 95% interval of the mean of `values` (per-item outcomes) for `metric`, within the
    metric's declared bounds. A cluster interval needs each item's cluster label."""
    if metric.interval is IntervalMethod.BINOMIAL:
        low, high = bootstrap_ci([bool(v) for v in values], seed)
    elif metric.interval is IntervalMethod.CLUSTER:
        if clusters is None:
            raise ValueError(f"metric {metric.key} needs cluster labels ({metric.cluster_field})")
        low, high = bootstrap_mean_ci(values, seed, clusters)
    else:
        low, high = bootstrap_mean_ci(values, seed)
    return (metric.clamp(low), metric.clamp(high))
