"""The exact requests behind a per-item result: what its benchmark's lm-eval task gave the
model (and the judge) for that item, as the result's record says it ran (position, answer)."""

from __future__ import annotations

from evaluation.benchmarks.contract import ShownPrompt
from leaderboard.evals.models import SampleResult
from leaderboard.evals.slices import declaration, item_values


def shown_prompts(sample: SampleResult) -> list[ShownPrompt]:
    """Empty where the benchmark shows none, or where the stored item or record no longer
    holds what its prompt needs (a page then says so instead of failing)."""
    benchmark = declaration(sample.item.release)
    try:
        return benchmark.item_prompts(
            item_values(benchmark, sample.item), sample.method, sample.parts, sample.details
        )
    except (KeyError, ValueError, TypeError):
        return []
