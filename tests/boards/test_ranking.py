"""Shared ranks and the overall interval."""

from __future__ import annotations

import math

import pytest

from leaderboard.boards.ranking import Z_95, Interval, mean_interval, shared_ranks


def test_disjoint_intervals_rank_in_order():
    intervals = [Interval(0.9, 0.85, 0.95), Interval(0.5, 0.45, 0.55), Interval(0.7, 0.65, 0.75)]
    assert shared_ranks(intervals) == [1, 3, 2]


def test_overlapping_intervals_share_a_rank():
    # B overlaps A, C overlaps B but not A: rank = 1 + models whose low is above my high.
    a, b, c = Interval(0.80, 0.75, 0.85), Interval(0.74, 0.70, 0.78), Interval(0.68, 0.64, 0.72)
    assert shared_ranks([a, b, c]) == [1, 1, 2]


def test_touching_bounds_overlap():
    assert shared_ranks([Interval(0.6, 0.5, 0.7), Interval(0.4, 0.3, 0.5)]) == [1, 1]


def test_incomplete_models_are_unranked_and_outrank_nobody():
    assert shared_ranks([None, Interval(0.5, 0.4, 0.6), None]) == [None, 1, None]


def test_it_ranks_many_models_like_the_definition():
    intervals = [Interval(v / 100, v / 100 - 0.03, v / 100 + 0.03) for v in range(10, 90, 2)]
    expected = [1 + sum(o.low > i.high for o in intervals) for i in intervals]
    assert shared_ranks(intervals) == expected


def test_mean_interval_combines_independent_errors():
    interval = mean_interval([0.6, 0.8], [0.03, 0.04])
    se = math.sqrt(0.03**2 + 0.04**2) / 2
    assert interval.value == pytest.approx(0.7)
    assert interval.low == pytest.approx(0.7 - Z_95 * se)
    assert interval.high == pytest.approx(0.7 + Z_95 * se)


def test_mean_interval_stays_within_zero_and_one():
    interval = mean_interval([0.99, 1.0], [0.2, 0.2])
    assert interval.high == 1.0
    assert interval.low < 0.99


def test_a_margin_mean_is_not_clamped_to_a_rate():
    interval = mean_interval([3.0, 5.0], [0.5, 0.5], lower=None, upper=None)
    assert interval.value == 4.0 and interval.high > 4.0 > interval.low > 1.0


def test_ranks_follow_a_metric_where_lower_is_better():
    best, worst = Interval(0.1, 0.05, 0.15), Interval(0.9, 0.85, 0.95)
    assert shared_ranks([best, worst], higher_is_better=False) == [1, 2]
    assert shared_ranks([best, worst]) == [2, 1]
