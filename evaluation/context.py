"""Items that do not fit a model's context are left out of its run, counted, never cut.

lm-eval cuts a log-likelihood request's context from the left to the model's length and
asserts on a continuation longer than it; a generation's prompt is cut to the length less the
tokens to generate. Either way the model would be scored on an item it never saw whole. So
each task's requests are built and measured with the model's own tokenizer before the run,
exactly as lm-eval encodes them, and an item any of whose requests would be cut is left out.
Served models are not measured: their context is not known here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evaluation.errors import ModelError
from evaluation.results import slice_key

if TYPE_CHECKING:
    from evaluation.benchmarks.contract import BenchmarkDefinition


@dataclass(frozen=True, slots=True)
class TooLong:
    """A document left out of a task: the tokens it needs, and the model's context."""

    task: str
    doc: dict[str, Any]
    tokens: int
    context: int


class NoItemFits(ModelError):
    """No document of any task fits the model's context: the run would score nothing. A
    judge's caller may catch it (the judge is not the evaluated model); `too_long` holds what
    was left out."""

    def __init__(self, message: str, too_long: list[TooLong]) -> None:
        super().__init__(message)
        self.too_long = too_long


def context_length(lm: Any) -> int | None:
    """The model's context in tokens as lm-eval cuts to it (HF: `max_length` given, else the
    config's n_positions / max_position_embeddings / n_ctx, else the tokenizer's
    model_max_length); None for a served model, whose context is not known here."""
    from lm_eval.models.api_models import TemplateAPI

    if isinstance(lm, TemplateAPI) or not hasattr(lm, "tok_encode"):
        return None
    return int(lm.max_length)


def _tokens(lm: Any, request_type: str, args: tuple[Any, ...]) -> int:
    """The tokens one request needs of the context, as lm-eval encodes it."""
    if request_type == "generate_until":
        context, gen_kwargs = args[0], args[1]
        max_gen_toks = int(gen_kwargs.get("max_gen_toks", lm.max_gen_toks))
        return len(lm.tok_encode(context)) + max_gen_toks
    context, continuation = args[0], args[1]
    if context == "":
        context_enc, continuation_enc = [lm.prefix_token_id], lm.tok_encode(continuation)
    else:
        context_enc, continuation_enc = lm._encode_pair(context, continuation)
    # The last continuation token is predicted, never fed: the input is one token shorter.
    return len(context_enc) + len(continuation_enc) - 1


def leave_out_too_long(
    lm: Any, tasks: Mapping[str, Any], apply_chat_template: bool
) -> list[TooLong]:
    """Measure every request of TASKS (name -> lm-eval Task) and drop from each task's
    documents those that would be cut; returns what was dropped. NoItemFits where no
    document of any task fits (the run would score nothing)."""
    context = context_length(lm)
    if context is None:
        return []
    dropped: list[TooLong] = []
    kept = 0
    for name, task in tasks.items():
        task.build_all_requests(
            apply_chat_template=apply_chat_template,
            chat_template=getattr(lm, "apply_chat_template", None) if apply_chat_template else None,
        )
        needed: Counter[int] = Counter()
        for instance in task.instances:
            tokens = _tokens(lm, instance.request_type, instance.args)
            needed[instance.doc_id] = max(needed[instance.doc_id], tokens)
        docs = task.eval_docs
        fits = [doc_id for doc_id in range(len(docs)) if needed[doc_id] <= context]
        dropped += [
            TooLong(name, dict(docs[doc_id]), needed[doc_id], context)
            for doc_id in range(len(docs))
            if needed[doc_id] > context
        ]
        kept += len(fits)
        if len(fits) < len(docs):
            # The raw split, which eval_docs reads (and maps 1:1 where a task processes it).
            split = task.config.test_split or task.config.validation_split
            task.dataset[split] = task.dataset[split].select(fits)
    if dropped and kept == 0:
        shortest = min(d.tokens for d in dropped)
        raise NoItemFits(
            f"no item fits the model's context of {context} tokens: the shortest needs "
            f"{shortest} ({len(dropped)} item(s) left out)",
            dropped,
        )
    return dropped


def left_out_counts(
    too_long: Mapping[str, Sequence[TooLong]], benchmark: BenchmarkDefinition
) -> dict[str, dict[str, Any]]:
    """What the card records per method that left items out: the context they exceeded, how
    many, and how many per slice cell."""
    counts: dict[str, dict[str, Any]] = {}
    for method, dropped in too_long.items():
        if not dropped:
            continue
        cells: dict[str, dict[str, Any]] = {}
        for item in dropped:
            slices = benchmark.slice_of(item.doc)
            cells.setdefault(slice_key(slices), {"slices": slices, "n": 0})["n"] += 1
        counts[method] = {
            "context": min(d.context for d in dropped),
            "n": len(dropped),
            "cells": [cells[key] for key in sorted(cells)],
        }
    return counts
