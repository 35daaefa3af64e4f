"""A model's disparity across the slices of one dimension: how far apart its best and worst
slices are on a method's primary metric, and the slices where it falls furthest below its own
mean, each with a 95% interval resampled the way the metric declares.

Only rankable slices count (n at least the dimension's `min_n`, values not declared
`unscored`); the greyed ones are listed, never compared. The interval re-chooses the best and
the worst slice in every resample: the statistic reported is "best minus worst", and which
slices are the extremes is itself uncertain. Holding the observed pair fixed would ignore that
selection (the observed best is partly best by chance) and give too narrow an interval. The
resampled ranges are centred on the observed one (see `_range_interval`). Being a
range, the disparity is never negative; whether a particular slice is really below the model's
mean is what each listed slice's gap interval says (it can cross zero).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from evaluation.benchmarks.contract import IntervalMethod, Method, SliceDimension
from evaluation.stats import BOOTSTRAP_ITERS, cell_seed, cluster_indices, resampled_means

#: how many of the slices furthest below the model's own mean are reported
LOWEST = 3


@dataclass(frozen=True)
class ItemValue:
    """One item's value of the primary metric, with its slice value and cluster label."""

    value: float
    slice: str
    cluster: str


@dataclass(frozen=True)
class SliceGap:
    value: str
    mean: float
    n: int
    #: the slice's mean minus the model's mean over all its items, with its 95% interval
    gap: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Disparity:
    method: str
    metric: str
    dimension: str
    #: the model's mean over all its scored items, and their number
    overall: float
    n: int
    #: best minus worst rankable slice; None with `reason` below two rankable slices
    value: float | None
    ci_low: float | None
    ci_high: float | None
    best: SliceGap | None
    worst: SliceGap | None
    #: the slices furthest below the model's mean (lowest first), at most LOWEST
    lowest: list[SliceGap] = field(default_factory=list)
    ranked: int = 0
    #: slices below the dimension's min_n: value -> n (excluded from every comparison)
    greyed: dict[str, int] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Disparity:
        gaps = {key: data[key] and SliceGap(**data[key]) for key in ("best", "worst")}
        return cls(
            **{**data, **gaps, "lowest": [SliceGap(**gap) for gap in data.get("lowest", [])]}
        )


def item_metric_value(
    method: Method, metric: str, value: float, details: Mapping[str, Any] | None
) -> float | None:
    """An item's value of `metric`: the stored per-item value where the method's items measure
    that metric, else the item's `details["outcome"][metric]` (the convention for a method whose
    primary metric is not its item metric, e.g. DiverValue-Bench's OPA over stored margins);
    None where the item holds no value of it."""
    if metric == method.value_metric.key:
        return float(value)
    outcome = (details or {}).get("outcome")
    found = outcome.get(metric) if isinstance(outcome, Mapping) else None
    return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else None


def disparity(
    method: Method,
    dimension: SliceDimension,
    items: Sequence[ItemValue],
    seed: int,
    *,
    lowest: int = LOWEST,
    iters: int = BOOTSTRAP_ITERS,
) -> Disparity:
    """The disparity of one model's items (one per item, unscored values already left out)
    across `dimension`'s slices on `method`'s primary metric."""
    metric = method.primary_metric
    base: dict[str, Any] = {"method": method.key, "metric": metric.key, "dimension": dimension.key}
    none: dict[str, Any] = dict.fromkeys(("value", "ci_low", "ci_high", "best", "worst"))
    if not items:
        return Disparity(**base, **none, overall=0.0, n=0, reason="no scored items")
    members: dict[str, list[float]] = defaultdict(list)
    clusters: dict[str, set[str]] = defaultdict(set)
    for item in items:
        members[item.slice].append(item.value)
        clusters[item.slice].add(item.cluster)
    overall = sum(item.value for item in items) / len(items)
    # A slice of one cluster (one user's items) has no interval where clusters are resampled:
    # never ranked, so never the best or the worst, whatever its number of items.
    alone = metric.interval is IntervalMethod.CLUSTER
    greyed = {
        v: len(xs)
        for v, xs in members.items()
        if len(xs) < dimension.min_n or (alone and len(clusters[v]) < 2)
    }
    ranked = sorted((v for v in members if v not in greyed), key=dimension.sort_key)
    base.update(overall=overall, n=len(items), ranked=len(ranked), greyed=greyed)
    if not ranked:
        reason = f"no slice has the {dimension.min_n} items a ranked one needs"
        return Disparity(**base, **none, reason=reason)
    boot = _resampled(metric.interval, items, ranked, seed, dimension.key, method.key, iters=iters)
    slice_means = boot[:, :-1]
    gaps = slice_means - boot[:, -1:]
    means = {v: sum(members[v]) / len(members[v]) for v in ranked}

    def gap(column: int) -> SliceGap:
        value = ranked[column]
        low, high = _percentiles(gaps[:, column])
        return SliceGap(value, means[value], len(members[value]), means[value] - overall, low, high)

    order = sorted(range(len(ranked)), key=lambda j: (means[ranked[j]], j))
    below = [gap(j) for j in order if means[ranked[j]] < overall][:lowest]
    if len(ranked) < 2:
        reason = "only one slice has enough items to be ranked"
        return Disparity(**base, **none, lowest=below, reason=reason)
    with warnings.catch_warnings():
        # A resample drawing only greyed slices' clusters has no ranked slice: NaN, left out.
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(slice_means, axis=1) - np.nanmin(slice_means, axis=1)
    worst, best = order[0], order[-1]
    value = means[ranked[best]] - means[ranked[worst]]
    low, high = _range_interval(spread, value)
    return Disparity(
        **base,
        value=value,
        ci_low=low,
        ci_high=high,
        best=gap(best),
        worst=gap(worst),
        lowest=below,
    )


def _resampled(
    interval: IntervalMethod,
    items: Sequence[ItemValue],
    ranked: Sequence[str],
    seed: int,
    *labels: str,
    iters: int,
) -> np.ndarray:
    """iters x (ranked slices + 1): each ranked slice's mean and the overall mean, all from the
    same resamples. A cluster metric resamples whole clusters (users), the others single items
    (for a proportion that is the binomial bootstrap its own interval uses)."""
    if interval is IntervalMethod.CLUSTER:
        groups = cluster_indices([item.cluster for item in items])
    else:
        groups = np.arange(len(items))
    column = {value: j for j, value in enumerate(ranked)}
    k, m = int(groups.max()) + 1, len(ranked) + 1
    sums, counts = np.zeros((k, m)), np.zeros((k, m))
    for group, item in zip(groups, items, strict=True):
        for j in (column.get(item.slice), m - 1):
            if j is not None:
                sums[group, j] += item.value
                counts[group, j] += 1
    return resampled_means(sums, counts, cell_seed(seed, "disparity", *labels), iters)


def _percentiles(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    # A resample that drew none of a slice's clusters says nothing about that slice: it is left
    # out of the slice's gap and the range is taken over the slices it holds. Every resample
    # holds some slice, and with 10,000 of them each slice is in thousands.
    values = values[~np.isnan(values)]
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))


def _range_interval(spread: np.ndarray, value: float) -> tuple[float, float]:
    """The resampled ranges' 95% interval, moved so that their median sits on the observed
    range. A range of noisy means overstates the true one, and a resample's range (noise on
    noise) overstates the observed one by about as much: the raw percentiles sit above the
    point, and for a model even across many slices they excluded it (3 seeds in 10 with 20
    slices). The spread of the resamples is kept; a range is never below 0."""
    low, high = _percentiles(spread)
    shift = value - float(np.median(spread[~np.isnan(spread)]))
    return (max(0.0, low + shift), high + shift)


def disparities(
    method: Method,
    dimensions: Sequence[SliceDimension],
    records: Sequence[tuple[float, Mapping[str, str], str]],
    seed: int,
) -> list[Disparity]:
    """One Disparity per dimension from per-item (primary value, slice values, cluster). An
    item holding a value some dimension declares unscored counts nowhere."""
    scored = [
        (value, slices, cluster)
        for value, slices, cluster in records
        if not any(slices.get(d.key, "") in d.unscored for d in dimensions)
    ]
    return [
        disparity(
            method,
            dimension,
            [ItemValue(v, slices.get(dimension.key, ""), c) for v, slices, c in scored],
            seed,
        )
        for dimension in dimensions
    ]
