"""The registry of benchmarks, by slug, imported lazily in lm-eval's `"name": "module:attr"`
style: listing the benchmarks imports nothing; `get_benchmark` imports only the one asked for.

To add a benchmark: a folder under `evaluation/benchmarks/<slug>/` whose `__init__` exposes a
`BenchmarkDefinition` instance, and one line here (see DESIGN.md, "Adding a benchmark").

A benchmark kept outside this package (the tests' toy benchmark, an operator's private one) is
named in the environment, so that every process (web, worker, command) finds it:
`EVAL_EXTRA_BENCHMARKS="toy=tests.toy_benchmark:BENCHMARK,other=pkg.mod:OBJ"`.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from evaluation.benchmarks.contract import BenchmarkDefinition

if TYPE_CHECKING:
    from evaluation.results import EvaluationResult
    from evaluation.spec import ModelSpec

REGISTRY: Final[dict[str, str]] = {
    "navab": "evaluation.benchmarks.navab:BENCHMARK",
    "divervalue": "evaluation.benchmarks.divervalue:BENCHMARK",
    "ufp4": "evaluation.benchmarks.ufp4:BENCHMARK",
}

EXTRA_ENV: Final = "EVAL_EXTRA_BENCHMARKS"


def parse_extra(value: str) -> dict[str, str]:
    """`slug=module:attr` entries separated by commas (blank entries are ignored)."""
    extra: dict[str, str] = {}
    for entry in value.split(","):
        if not entry.strip():
            continue
        slug, sep, target = (part.strip() for part in entry.partition("="))
        if not sep or not slug or ":" not in target:
            raise ValueError(f"{EXTRA_ENV}: {entry.strip()!r} is not slug=module:attr")
        if slug in REGISTRY or slug in extra:
            raise ValueError(f"{EXTRA_ENV}: benchmark {slug!r} is already registered")
        extra[slug] = target
    return extra


# Benchmarks registered at run time: from the environment, and by `register` (tests).
_extra: dict[str, str] = parse_extra(os.environ.get(EXTRA_ENV, ""))


def register(slug: str, target: str) -> None:
    """Register `module:attr` under `slug` (a slug already registered is an error)."""
    if slug in REGISTRY or slug in _extra:
        raise ValueError(f"benchmark {slug!r} is already registered")
    _extra[slug] = target
    get_benchmark.cache_clear()


def unregister(slug: str) -> None:
    _extra.pop(slug, None)
    get_benchmark.cache_clear()


def benchmark_slugs() -> list[str]:
    return [*REGISTRY, *_extra]


@cache
def get_benchmark(slug: str) -> BenchmarkDefinition:
    target = REGISTRY.get(slug) or _extra.get(slug)
    if target is None:
        raise KeyError(f"unknown benchmark {slug!r}; registered: {', '.join(benchmark_slugs())}")
    module_name, _, attr = target.partition(":")
    benchmark = getattr(importlib.import_module(module_name), attr)
    if not isinstance(benchmark, BenchmarkDefinition) or benchmark.slug != slug:
        raise TypeError(f"{target} is not the definition of benchmark {slug!r}")
    benchmark.validate()
    return benchmark


def all_benchmarks() -> list[BenchmarkDefinition]:
    return [get_benchmark(slug) for slug in benchmark_slugs()]


def out_of_domain_sets(slug: str) -> list[BenchmarkDefinition]:
    """The benchmarks declared as SLUG's out-of-domain sets (DiverValue-Bench: UF-P-4)."""
    return [b for b in all_benchmarks() if b.out_of_domain_of == slug]


def evaluate(
    benchmark: str, spec: ModelSpec, release_dir: Path, **options: Any
) -> EvaluationResult:
    """Score SPEC on a release of the benchmark registered as BENCHMARK, by its own harness
    (`BenchmarkDefinition.evaluate`, which documents the options)."""
    result: EvaluationResult = get_benchmark(benchmark).evaluate(spec, Path(release_dir), **options)
    return result
