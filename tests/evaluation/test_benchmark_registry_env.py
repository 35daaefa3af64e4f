"""Benchmarks named in EVAL_EXTRA_BENCHMARKS are found by every process that reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.benchmarks import EXTRA_ENV, parse_extra
from tests.toy_benchmark import REGISTRATION

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a Python process of its own
def test_a_process_finds_the_benchmarks_named_in_its_environment():
    code = "from evaluation.benchmarks import benchmark_slugs, get_benchmark as g; print(benchmark_slugs(), g('toy').name)"
    env = {**os.environ, EXTRA_ENV: REGISTRATION}

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "['navab', 'divervalue', 'ufp4', 'toy'] Toy benchmark"


def test_entries_are_slug_equals_module_colon_attribute():
    assert parse_extra(" a=pkg.mod:A , ,b=pkg:B") == {"a": "pkg.mod:A", "b": "pkg:B"}
    assert parse_extra("") == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("toy", "is not slug=module:attr"),
        ("toy=tests.toy_benchmark", "is not slug=module:attr"),
        ("navab=x:Y", "already registered"),
        ("a=x:Y,a=z:W", "already registered"),
    ],
)
def test_a_malformed_entry_is_refused_by_name(value: str, message: str):
    with pytest.raises(ValueError, match=message):
        parse_extra(value)
