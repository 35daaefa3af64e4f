"""Agreement of two methods' per-item verdicts: kappa, the paired interval, the flag."""

from __future__ import annotations

import pytest

from evaluation.benchmarks.agreement import cohen_kappa, method_agreement
from evaluation.stats import bootstrap_mean_cis


def test_kappa_is_one_for_the_same_mixed_verdicts_and_zero_at_chance() -> None:
    assert cohen_kappa([True, False, True, False], [True, False, True, False]) == 1.0
    # Each side says yes half the time, independently: agreement is what chance gives.
    assert cohen_kappa([True, True, False, False], [True, False, True, False]) == 0.0
    assert cohen_kappa([True, True, False, False], [False, False, True, True]) == -1.0


def test_kappa_is_none_where_chance_explains_everything() -> None:
    assert cohen_kappa([True] * 4, [True] * 4) is None
    assert cohen_kappa([], []) is None


def test_the_same_verdicts_agree_and_are_not_flagged() -> None:
    verdicts = [i % 3 == 0 for i in range(90)]
    found = method_agreement(verdicts, verdicts, seed=1)
    assert found is not None
    assert (found.n, found.agree, found.diff) == (90, 1.0, 0.0)
    assert found.ci_diff == (0.0, 0.0)
    assert not found.disagrees


def test_rates_far_apart_are_flagged_and_close_ones_are_not() -> None:
    a = [True] * 80 + [False] * 20
    far = [True] * 20 + [False] * 80
    found = method_agreement(a, far, seed=1)
    assert found is not None and found.disagrees
    assert found.diff == pytest.approx(-0.6)
    assert found.ci_diff[1] < 0
    # One item's difference in a hundred is within the paired interval.
    close = [True] * 79 + [False] * 21
    assert not method_agreement(a, close, seed=1).disagrees  # type: ignore[union-attr]


def test_clusters_widen_the_interval_and_one_cluster_has_none() -> None:
    # Ten users of ten items: each user's items all agree or all disagree.
    a = [True] * 100
    b = [u % 2 == 0 for u in range(10) for _ in range(10)]
    users = [f"u{u}" for u in range(10) for _ in range(10)]
    by_item = method_agreement(a, b, seed=3)
    by_user = method_agreement(a, b, seed=3, clusters=users)
    assert by_item is not None and by_user is not None
    assert by_user.clusters == 10 and by_item.clusters is None
    width = lambda f: f.ci_diff[1] - f.ci_diff[0]  # noqa: E731
    assert width(by_user) > width(by_item)
    one = method_agreement(a[:10], b[:10], seed=3, clusters=users[:10])
    assert one is not None and one.one_cluster


def test_it_refuses_verdicts_of_different_lengths() -> None:
    assert method_agreement([], [], seed=1) is None
    with pytest.raises(ValueError, match="one verdict"):
        method_agreement([True], [], seed=1)


def test_independent_items_get_the_intervals_of_resampling_items() -> None:
    """Drawn as counts of the four verdict pairs: the same distribution as resampling items."""
    a = [i % 3 == 0 for i in range(600)]
    b = [i % 5 != 0 for i in range(600)]
    found = method_agreement(a, b, seed=7)
    assert found is not None
    col_a, col_b = [float(x) for x in a], [float(y) for y in b]
    diff = [y - x for x, y in zip(col_a, col_b, strict=True)]
    expected = bootstrap_mean_cis([col_a, col_b, diff], 7)
    for got, want in zip((found.ci_a, found.ci_b, found.ci_diff), expected, strict=True):
        assert got == pytest.approx(want, abs=0.01)
