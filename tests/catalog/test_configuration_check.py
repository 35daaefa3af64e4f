"""Each benchmark checks its own environment variables (`BenchmarkDefinition.check_configuration`), run
as a Django system check for every registered benchmark; the site's settings import none."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from evaluation.benchmarks import get_benchmark, register, unregister
from tests.pipeline.conftest import REPO
from tests.toy_benchmark import BENCHMARK as TOY
from tests.toy_benchmark import REGISTRATION


def _check_errors() -> str:
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    return str(raised.value)


@pytest.mark.parametrize("value", ["ten", "0"])
def test_a_bad_divervalue_min_n_is_a_system_check_error_naming_it(monkeypatch, value):
    # Loaded first, as a running site has it: a process that loads it with the bad value
    # stops there, naming the variable (tests/evaluation/test_divervalue_min_n.py).
    get_benchmark("divervalue")
    monkeypatch.setenv("DIVERVALUE_MIN_N", value)

    errors = _check_errors()

    assert "benchmark.E001" in errors
    assert "benchmark 'divervalue': DIVERVALUE_MIN_N must be" in errors


def test_a_malformed_judge_panel_is_a_system_check_error_naming_it(monkeypatch):
    monkeypatch.setenv("EVAL_PAA_JUDGES", json.dumps([{"model": "a", "colour": "red"}]))

    assert "EVAL_PAA_JUDGES[0]: unknown key(s) colour" in _check_errors()


def test_a_good_configuration_passes(monkeypatch):
    monkeypatch.setenv("DIVERVALUE_MIN_N", "3")
    monkeypatch.setenv(
        "EVAL_PAA_JUDGES", json.dumps(["org/judge-a@" + "a" * 40, "org/judge-b@" + "b" * 40])
    )

    call_command("check")


def test_a_benchmark_registered_outside_the_registry_is_checked_too(monkeypatch):
    # A benchmark with a variable of its own (here the toy, told that one is missing).
    monkeypatch.setattr(
        type(TOY), "check_configuration", lambda self, env: ["TOY_LEVEL must be set"]
    )
    slug, _, target = REGISTRATION.partition("=")
    register(slug, target)
    try:
        assert "benchmark 'toy': TOY_LEVEL must be set" in _check_errors()
    finally:
        unregister(slug)


@pytest.mark.slow  # starts a Python process
def test_the_settings_import_no_benchmark():
    code = "import sys, leaderboard.settings; print(sorted(m for m in sys.modules if 'bench' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
