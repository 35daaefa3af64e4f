"""A model's disparity across slices, checked against a plain-Python computation."""

from __future__ import annotations

import random

import numpy as np
import pytest

from evaluation.benchmarks.contract import (
    IntervalMethod,
    Method,
    Metric,
    MetricKind,
    SliceDimension,
    Track,
)
from evaluation.benchmarks.disparity import (
    Disparity,
    ItemValue,
    disparities,
    disparity,
    item_metric_value,
)
from evaluation.benchmarks.divervalue.definition import BENCHMARK as DVB
from evaluation.stats import cell_seed


def _method(interval: IntervalMethod) -> Method:
    metric = Metric(
        "acc",
        "Accuracy",
        MetricKind.PROPORTION,
        interval,
        lower=0.0,
        upper=1.0,
        cluster_field="user_id" if interval is IntervalMethod.CLUSTER else None,
    )
    return Method("m", "M", Track.LOGLIKELIHOOD, (metric,), primary="acc")


COUNTRY = SliceDimension("country", "Country", field="country", min_n=4)


def _items() -> list[ItemValue]:
    """Known data: four countries of 3 users x 2 items, and a greyed one of 2 items."""
    rng = random.Random(7)
    rates = {"fr": 0.9, "de": 0.6, "jp": 0.4, "br": 0.2}
    items = []
    for country, rate in rates.items():
        for user in range(3):
            for _ in range(2):
                items.append(ItemValue(float(rng.random() < rate), country, f"{country}{user}"))
    items += [ItemValue(0.0, "nz", "nz0"), ItemValue(0.0, "nz", "nz0")]
    return items


def _plain_python(items: list[ItemValue], seed: list[int], iters: int) -> dict[str, object]:
    """The same statistic by loops: mean per slice, best minus worst over rankable slices; the
    interval from whole users drawn with replacement (the picks taken from the same seeded
    generator, the rest computed independently)."""
    by_slice: dict[str, list[float]] = {}
    for item in items:
        by_slice.setdefault(item.slice, []).append(item.value)
    ranked = {s: sum(v) / len(v) for s, v in by_slice.items() if len(v) >= COUNTRY.min_n}
    users: list[str] = []
    for item in items:
        if item.cluster not in users:
            users.append(item.cluster)
    picks = np.random.default_rng(seed).integers(0, len(users), size=(iters, len(users)))
    spreads = []
    for row in picks:
        drawn = [users[i] for i in row]
        weight = {user: drawn.count(user) for user in users}
        means = []
        for s in ranked:
            total = sum(weight[i.cluster] * i.value for i in items if i.slice == s)
            count = sum(weight[i.cluster] for i in items if i.slice == s)
            if count:
                means.append(total / count)
        spreads.append(max(means) - min(means))
    value = max(ranked.values()) - min(ranked.values())
    # The resampled ranges' percentiles, their median moved onto the observed range.
    low, high = np.percentile(spreads, [2.5, 97.5]) + value - np.median(spreads)
    return {
        "value": value,
        "best": max(ranked, key=lambda s: ranked[s]),
        "worst": min(ranked, key=lambda s: ranked[s]),
        "ci": (max(0.0, float(low)), float(high)),
    }


def test_it_matches_a_plain_python_cluster_bootstrap_on_known_data() -> None:
    items = _items()
    method = _method(IntervalMethod.CLUSTER)
    result = disparity(method, COUNTRY, items, seed=11, iters=2000)
    expected = _plain_python(items, cell_seed(11, "disparity", "country", "m"), 2000)
    assert result.value == pytest.approx(expected["value"])
    assert result.best is not None and result.best.value == expected["best"]
    assert result.worst is not None and result.worst.value == expected["worst"]
    assert (result.ci_low, result.ci_high) == pytest.approx(expected["ci"])
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= result.value <= result.ci_high


@pytest.mark.parametrize("seed", range(10))
def test_the_interval_holds_the_disparity_of_a_model_even_across_many_slices(seed) -> None:
    # Twenty slices of one true rate: the observed range is noise, and a resample's range is
    # noise on noise; the raw percentiles of the latter sat above the point.
    rng = random.Random(seed)
    items = [
        ItemValue(float(rng.random() < 0.5), f"s{s:02d}", f"u{s}-{i}")
        for s in range(20)
        for i in range(60)
    ]
    result = disparity(_method(IntervalMethod.BINOMIAL), COUNTRY, items, seed=seed, iters=2000)
    assert result.value is not None and result.ci_low is not None and result.ci_high is not None
    assert 0.0 <= result.ci_low <= result.value <= result.ci_high


def test_it_never_ranks_a_slice_below_min_n_and_lists_it_greyed() -> None:
    result = disparity(_method(IntervalMethod.CLUSTER), COUNTRY, _items(), seed=1, iters=500)
    # nz is the worst by far (0 of 2) but has 2 items, fewer than min_n 4
    assert result.greyed == {"nz": 2}
    assert result.ranked == 4
    assert result.worst is not None and result.worst.value != "nz"
    assert all(gap.value != "nz" for gap in result.lowest)


def test_it_lists_the_slices_furthest_below_the_models_own_mean_with_gaps() -> None:
    items = _items()
    result = disparity(_method(IntervalMethod.CLUSTER), COUNTRY, items, seed=1, iters=500)
    overall = sum(i.value for i in items) / len(items)
    assert result.overall == pytest.approx(overall)
    means = [gap.mean for gap in result.lowest]
    assert len(means) == 2 and means == sorted(means)  # jp and br are below the mean, lowest first
    for gap in result.lowest:
        members = [i.value for i in items if i.slice == gap.value]
        assert gap.n == len(members)
        assert gap.mean == pytest.approx(sum(members) / len(members))
        assert gap.gap == pytest.approx(gap.mean - overall) and gap.gap < 0
        assert gap.ci_low <= gap.gap <= gap.ci_high


def test_resampling_users_widens_the_interval_when_a_users_items_agree() -> None:
    # Every user answers all 10 of their items alike: 5 independent users per country, not 50.
    items = [
        ItemValue(float(u % 2 == 0 or c == "a"), c, f"{c}{u}")
        for c in ("a", "b")
        for u in range(5)
        for _ in range(10)
    ]
    dim = SliceDimension("c", "C", field="c")
    clustered = disparity(_method(IntervalMethod.CLUSTER), dim, items, seed=3)
    independent = disparity(_method(IntervalMethod.BINOMIAL), dim, items, seed=3)
    assert clustered.value == independent.value
    assert clustered.ci_low is not None and independent.ci_low is not None
    assert clustered.ci_high is not None and independent.ci_high is not None
    assert clustered.ci_high - clustered.ci_low > 1.5 * (independent.ci_high - independent.ci_low)


def test_it_says_why_there_is_no_disparity_with_one_rankable_slice() -> None:
    items = [ItemValue(1.0, "fr", f"u{i}") for i in range(5)] + [ItemValue(0.0, "de", "x")]
    result = disparity(_method(IntervalMethod.CLUSTER), COUNTRY, items, seed=1, iters=200)
    assert result.value is None and result.ci_low is None
    assert result.reason == "only one slice has enough items to be ranked"
    assert result.greyed == {"de": 1}


def test_an_item_with_an_unscored_value_counts_in_no_dimension() -> None:
    split = SliceDimension("split", "Split", field="split", unscored=frozenset({"train"}))
    records = [(1.0, {"country": "fr", "split": "test"}, f"u{i}") for i in range(4)]
    records += [(0.0, {"country": "de", "split": "test"}, f"v{i}") for i in range(4)]
    records += [(1.0, {"country": "de", "split": "train"}, f"w{i}") for i in range(40)]
    by_country, by_split = disparities(
        _method(IntervalMethod.CLUSTER), [COUNTRY, split], records, 2
    )
    assert by_country.n == 8 and by_country.value == 1.0
    assert by_split.n == 8 and by_split.reason == "only one slice has enough items to be ranked"


def test_it_round_trips_through_a_dict() -> None:
    result = disparity(_method(IntervalMethod.CLUSTER), COUNTRY, _items(), seed=1, iters=200)
    assert Disparity.from_dict(result.to_dict()) == result


def test_divervalue_opa_reads_each_items_opa_from_its_outcome() -> None:
    opa = DVB.method("opa")
    details = {"outcome": {"opa": 0.5, "margin": 2.5, "acc_0": 1.0}}
    assert item_metric_value(opa, "opa", 2.5, details) == 0.5
    assert item_metric_value(opa, "margin", 2.5, details) == 2.5
    assert item_metric_value(opa, "opa", 2.5, {}) is None
    acc = _method(IntervalMethod.BINOMIAL)
    assert item_metric_value(acc, "acc", 1.0, None) == 1.0
