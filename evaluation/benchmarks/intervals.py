"""A metric's interval, computed the way its declaration says."""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.benchmarks.contract import IntervalMethod, Metric
from evaluation.stats import bootstrap_ci, bootstrap_mean_cis


def metric_interval(
    metric: Metric,
    values: Sequence[float],
    seed: Sequence[int] | int,
    clusters: Sequence[str] | None = None,
) -> tuple[float, float]:
    """The 95% interval of the mean of `values` (per-item outcomes) for `metric`, within the
    metric's declared bounds. A cluster interval needs each item's cluster label."""
    return metric_intervals([metric], [values], seed, clusters)[0]


def metric_intervals(
    metrics: Sequence[Metric],
    columns: Sequence[Sequence[float]],
    seed: Sequence[int] | int,
    clusters: Sequence[str] | None = None,
) -> list[tuple[float, float]]:
    """`metric_interval` of several metrics of the same items (one column of per-item values
    per metric) from one seed: the bootstrapped ones share their replicates, drawn once."""
    found: dict[int, tuple[float, float]] = {}
    resampled: dict[bool, list[int]] = {}  # by cluster or by item -> positions
    for position, metric in enumerate(metrics):
        if metric.interval is IntervalMethod.BINOMIAL:
            found[position] = bootstrap_ci([bool(v) for v in columns[position]], seed)
            continue
        by_cluster = metric.interval is IntervalMethod.CLUSTER
        if by_cluster and clusters is None:
            raise ValueError(f"metric {metric.key} needs cluster labels ({metric.cluster_field})")
        resampled.setdefault(by_cluster, []).append(position)
    for by_cluster, positions in resampled.items():
        chosen = [columns[p] for p in positions]
        bounds = bootstrap_mean_cis(chosen, seed, clusters if by_cluster else None)
        for position, bound in zip(positions, bounds, strict=True):
            found[position] = bound
    return [
        (metric.clamp(found[position][0]), metric.clamp(found[position][1]))
        for position, metric in enumerate(metrics)
    ]
