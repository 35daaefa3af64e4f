"""The exact requests behind a per-item result: what its benchmark's lm-eval task gave the
model (and the judge) for that item, as the result's record says it ran (position, answer),
and as the chat model's own generation settings sent it (its job's card)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from evaluation.benchmarks.contract import ShownPrompt
from leaderboard.evals.models import SampleResult
from leaderboard.evals.slices import declaration, item_values

#: the label a benchmark gives the evaluated model's own requests (judges have others)
MODEL_LABEL = "Model"


def shown_prompts(sample: SampleResult) -> list[ShownPrompt]:
    """Empty where the benchmark shows none, or where the stored item or record no longer
    holds what its prompt needs (a page then says so instead of failing)."""
    benchmark = declaration(sample.item.release)
    try:
        prompts = benchmark.item_prompts(
            item_values(benchmark, sample.item), sample.method, sample.parts, sample.details
        )
    except (KeyError, ValueError, TypeError):
        return []
    settings = _generation_sent(sample.job.repro_card)
    return [_as_sent(p, settings) if p.label == MODEL_LABEL else p for p in prompts]


def _generation_sent(card: Any) -> dict[str, Any]:
    """A chat model's generation settings as its run's card records them ({}: the task's)."""
    model = card.get("model") if isinstance(card, dict) else None
    if not isinstance(model, dict) or model.get("kind") != "openai-chat":
        return {}
    chosen = model.get("generation")
    return chosen if isinstance(chosen, dict) else {}


def _as_sent(prompt: ShownPrompt, settings: dict[str, Any]) -> ShownPrompt:
    """The benchmark renders its task's request; a chat model's settings changed what was
    sent (`evaluation.providers.generation.Generation.apply`): its system prompt first, and
    in reasoning mode no stop sequences and no temperature."""
    if not settings:
        return prompt
    own = str(settings.get("system_prompt") or "")
    system = f"{own}\n\n{prompt.system}".strip() if own and prompt.system else own or prompt.system
    shown = replace(prompt, system=system)
    if prompt.continuations:
        return shown  # scored, not generated
    if settings.get("reasoning"):
        return replace(
            shown, until=(), sampling="in reasoning mode (sent no stop sequence, no temperature)"
        )
    temperature = settings.get("temperature")
    if isinstance(temperature, int | float) and temperature > 0:
        return replace(shown, sampling=f"at temperature {temperature:g}")
    return shown
