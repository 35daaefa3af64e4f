import math

import pytest

from evaluation.stats import bootstrap_ci, cell_seed, correct_rate, stderr


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
