"""The paired bootstrap behind model comparisons."""

from __future__ import annotations

import pytest

from leaderboard.boards.paired import paired_bootstrap


def test_identical_answers_give_no_difference():
    a = [True, False, True, True]
    result = paired_bootstrap(a, list(a))
    assert (result.delta, result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_a_clear_improvement_is_significant():
    a = [False] * 80 + [True] * 20
    b = [True] * 80 + [True] * 20
    result = paired_bootstrap(a, b, seed=1)
    assert result.n == 100
    assert result.delta == pytest.approx(0.8)
    assert result.ci_low > 0.6
    assert result.p_value < 0.01


def test_a_small_difference_is_not_significant():
    a = [True, False] * 50
    b = list(a)
    b[1] = True  # one item of a hundred
    result = paired_bootstrap(a, b, seed=1)
    assert result.delta == pytest.approx(0.01)
    assert result.ci_low <= 0.0 <= result.ci_high
    assert result.p_value > 0.05


def test_the_sign_follows_the_second_model():
    result = paired_bootstrap([True] * 30, [False] * 30, seed=3)
    assert result.delta == pytest.approx(-1.0)
    assert result.ci_high < 0


def test_unpaired_lengths_are_refused():
    with pytest.raises(ValueError, match="same length"):
        paired_bootstrap([True], [True, False])


def test_no_items_gives_an_empty_result():
    assert paired_bootstrap([], []).n == 0


def test_resampling_users_widens_the_interval_when_one_users_items_move_together():
    # Ten users with ten items each; the change is all-or-nothing per user.
    users = [f"u{u}" for u in range(10) for _ in range(10)]
    a = [0.0] * 100
    b = [1.0 if int(user[1:]) < 5 else 0.0 for user in users]
    by_item = paired_bootstrap(a, b, seed=2)
    by_user = paired_bootstrap(a, b, seed=2, clusters=users)
    assert by_item.delta == by_user.delta == pytest.approx(0.5)
    assert (by_user.ci_high - by_user.ci_low) > 2 * (by_item.ci_high - by_item.ci_low)
    # With ten users, the interval is that of a mean of ten 0/1 outcomes.
    assert by_user.ci_low <= 0.2 and by_user.ci_high >= 0.8


def test_it_needs_one_cluster_label_per_pair():
    with pytest.raises(ValueError, match="one cluster label per pair"):
        paired_bootstrap([0.0, 1.0], [1.0, 1.0], clusters=["u1"])
