"""benchmarks/harness_overhead.py at a tiny size: it runs both sides on every method, finds
the same per-item log-likelihoods on both, and prints the ratio lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the script in a subprocess

ROOT = Path(__file__).resolve().parents[2]


def test_it_times_the_harness_against_stock_lm_eval_and_prints_the_ratio():
    result = subprocess.run(
        [sys.executable, "benchmarks/harness_overhead.py", "--items", "50", "--max-gen-toks", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for method in ("navab:mc", "navab:aj", "divervalue:opa"):
        line = next(line for line in out.splitlines() if line.startswith(method))
        assert re.search(r"wall \d+\.\d{3}x cpu \d+\.\d{3}x$", line), line
    assert "per-item log-likelihoods: identical on both sides for every method" in out
    assert re.search(
        r"^ratio \(harness / lm-eval\): wall \d+\.\d{3}, cpu \d+\.\d{3}; goal", out, re.M
    )


def test_it_refuses_an_unknown_method():
    result = subprocess.run(
        [sys.executable, "benchmarks/harness_overhead.py", "--methods", "navab:nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "methods are navab:mc, navab:aj, divervalue:opa" in result.stderr
