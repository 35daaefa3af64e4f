import math

import numpy as np
import pytest

from evaluation.stats import (
    bootstrap_ci,
    bootstrap_mean_ci,
    bootstrap_mean_cis,
    cell_seed,
    correct_rate,
    resampled_means,
    stderr,
)


def test_stderr_matches_the_sample_standard_deviation_formula():
    outcomes = [True, False, True, True]
    p = 0.75
    expected = math.sqrt(sum((x - p) ** 2 for x in outcomes) / 3 / 4)
    assert stderr(outcomes) == pytest.approx(expected)
    assert stderr([True]) == 0.0


def test_bootstrap_is_deterministic_for_a_seed_and_brackets_the_rate():
    outcomes = [True] * 30 + [False] * 20
    first = bootstrap_ci(outcomes, cell_seed(7, "us", "quoted", "mc"))
    again = bootstrap_ci(outcomes, cell_seed(7, "us", "quoted", "mc"))
    assert first == again
    assert first[0] < correct_rate(outcomes) < first[1]
    assert first[0] > 0.4 and first[1] < 0.8


def test_bootstrap_of_a_constant_outcome_is_a_point():
    assert bootstrap_ci([True] * 5, 1) == (1.0, 1.0)
    assert bootstrap_ci([], 1) == (0.0, 0.0)


def test_the_cluster_bootstrap_is_the_percentile_interval_of_resampled_cluster_means():
    """Written from the definition: each replicate draws k of the k clusters with replacement
    (the same uniform draws as the stats code, from the same seed) and takes the mean over the
    items of the clusters drawn; the interval is the 2.5th and 97.5th percentiles."""
    import numpy as np

    users = [f"u{i % 7}" for i in range(40)]
    values = [float(i % 5) - 1.5 * (i % 7 == 3) for i in range(40)]
    labels = sorted(set(users), key=users.index)
    members = {
        label: [v for v, u in zip(values, users, strict=True) if u == label] for label in labels
    }
    rng = np.random.default_rng([5, 6])
    picks = rng.integers(0, len(labels), size=(400, len(labels)))
    means = []
    for row in picks:
        drawn = [x for index in row for x in members[labels[index]]]
        means.append(sum(drawn) / len(drawn))
    expected = tuple(float(q) for q in np.percentile(means, [2.5, 97.5]))
    got = bootstrap_mean_ci(values, [5, 6], clusters=users, iters=400)
    assert got == pytest.approx(expected, abs=1e-12)


def test_the_cluster_bootstrap_covers_the_mean_as_often_as_a_95_percent_interval_should():
    import numpy as np

    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(200):
        # 30 users, 5 items each, a user effect: items of one user are correlated.
        effects = rng.normal(size=30)
        values = [float(e + rng.normal(scale=0.5)) for e in effects for _ in range(5)]
        users = [str(u) for u in range(30) for _ in range(5)]
        low, high = bootstrap_mean_ci(values, trial, clusters=users, iters=2000)
        covered += low <= 0.0 <= high
    assert 0.88 <= covered / 200 <= 0.99


def test_intervals_of_several_columns_equal_each_column_bootstrapped_alone():
    users = [f"u{i % 9}" for i in range(60)]
    columns = [[float(i % 4) for i in range(60)], [0.5 * i - 3.0 for i in range(60)]]
    joint = bootstrap_mean_cis(columns, [3, 4], clusters=users)
    assert joint == [bootstrap_mean_ci(column, [3, 4], clusters=users) for column in columns]
    assert bootstrap_mean_cis([[], []], 1) == [(0.0, 0.0), (0.0, 0.0)]
    with pytest.raises(ValueError, match="one value per item"):
        bootstrap_mean_cis([[1.0], [1.0, 2.0]], 1)


@pytest.mark.parametrize("whole", [True, False])
def test_resampled_means_are_those_of_float64_products_whether_values_are_whole_or_not(whole):
    # Whole-number tables are multiplied in float32 (exact below 2**24): the means must be
    # bit for bit those of the float64 products the same replicates give.
    rng = np.random.default_rng(3)
    k, subsets, iters = 2_000, 7, 300
    counts = (rng.random((k, subsets)) < 0.9).astype(float)
    values = (rng.random((k, subsets)) < 0.6) if whole else rng.normal(0.3, 1.0, (k, subsets))
    sums = values * counts
    found = resampled_means(sums, counts, [5, 6], iters=iters)

    draws = np.random.default_rng([5, 6])
    expected = np.empty((iters, subsets))
    chunk = max(1, min(iters, 2_000_000 // k))
    for start in range(0, iters, chunk):
        size = min(chunk, iters - start)
        picks = draws.integers(0, k, size=(size, k))
        weights = np.zeros((size, k))
        for row in range(size):
            np.add.at(weights[row], picks[row], 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            totals = weights @ counts
            expected[start : start + size] = np.where(totals > 0, (weights @ sums) / totals, np.nan)
    assert (
        np.array_equal(found, expected, equal_nan=True) if whole else np.allclose(found, expected)
    )
