"""DIVERVALUE_MIN_N: the slice size below which DiverValue-Bench slices are greyed, read by
every process from its environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.pipeline.conftest import REPO

pytestmark = pytest.mark.slow  # each test starts a Python process

READ = (
    "from evaluation.benchmarks.divervalue.definition import BENCHMARK;"
    "print(sorted({d.min_n for d in BENCHMARK.slices}))"
)


def _read(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DIVERVALUE_MIN_N"}
    if value is not None:
        env["DIVERVALUE_MIN_N"] = value
    return subprocess.run(
        [sys.executable, "-c", READ], cwd=REPO, env=env, capture_output=True, text=True
    )


def test_it_defaults_to_ten_items():
    assert _read(None).stdout.strip() == "[10]"


def test_the_environment_sets_every_dimension():
    assert _read("3").stdout.strip() == "[3]"


def test_a_value_that_is_not_a_count_is_refused_by_name():
    for value in ("ten", "0"):
        result = _read(value)
        assert result.returncode != 0
        assert "DIVERVALUE_MIN_N" in result.stderr or "min_n" in result.stderr
