"""Every registered benchmark's configuration as a Django system check: its own environment
variables are checked where it declares them (`BenchmarkDefinition.check_configuration`), so adding a
benchmark with settings of its own touches nothing in the site's settings."""

from __future__ import annotations

import os
from typing import Any

from django.core import checks

from evaluation.benchmarks import benchmark_slugs, get_benchmark


@checks.register()
def benchmark_configuration(**kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for slug in benchmark_slugs():
        try:
            problems = get_benchmark(slug).check_configuration(os.environ)
        except Exception as exc:  # a benchmark that cannot load (a bad import) is reported
            problems = [f"cannot be loaded: {exc}"]
        errors.extend(
            checks.Error(f"benchmark {slug!r}: {problem}", id="benchmark.E001")
            for problem in problems
        )
    return errors
