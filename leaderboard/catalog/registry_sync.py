"""Benchmark rows written from the registry of `evaluation.benchmarks`, so the declaration in
a benchmark's folder is the one place its name, paper and licence are written."""

from __future__ import annotations

from typing import Any

from evaluation.benchmarks import benchmark_slugs, get_benchmark


def sync_benchmarks(benchmark_model: Any) -> None:
    """Create or update one row per registered benchmark. Migrations pass their historical
    model; the post-migrate hook and tests pass the current one."""
    for order, slug in enumerate(benchmark_slugs()):
        declared = get_benchmark(slug)
        benchmark_model.objects.update_or_create(
            slug=slug,
            defaults={
                "name": declared.name,
                "description": declared.description,
                "paper_title": declared.citation.title,
                "paper_url": declared.citation.url,
                "licence": declared.licence or "",
                "citation": declared.citation.bibtex,
                "sort_order": order,
            },
        )
