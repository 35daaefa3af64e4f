"""How the pages write numbers: a value that rounds to zero never reads as negative zero."""

from __future__ import annotations

from evaluation.benchmarks.contract import MetricKind
from leaderboard.boards.templatetags.boards import difference, gap, interval, interval_end, metric


def test_a_margin_that_rounds_to_zero_reads_zero_not_minus_zero():
    assert metric(-0.0004, MetricKind.MARGIN) == "0.000"
    assert difference(-0.0004, MetricKind.MARGIN) == "0.000"
    assert gap(-0.0004, MetricKind.MARGIN) == "+0.000"
    assert interval(-0.004, MetricKind.MARGIN) == "0.00"
    assert interval_end(-0.004, MetricKind.MARGIN).endswith(" 0.00")
    assert metric(-0.00004, MetricKind.PROPORTION) == "0.0%"


def test_values_away_from_zero_keep_their_sign():
    assert metric(-0.0104, MetricKind.MARGIN) == "-0.010"
    assert gap(-0.082, MetricKind.PROPORTION) == "-8.2 pts"
    assert difference(0.125, MetricKind.PROPORTION) == "12.5 pts"
