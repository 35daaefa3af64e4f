"""Evaluation harness: plain Python on top of EleutherAI lm-eval (no Django here).

The entry point is `evaluate(benchmark, spec, release_dir, ...)`, which hands the run to the
benchmark's own harness through its contract; `python -m evaluation` wraps it. Benchmarks are
declared under `evaluation.benchmarks`. Names are imported on first use, so
importing a submodule (a benchmark's definition, the release format) loads nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evaluation.benchmarks import evaluate
    from evaluation.errors import ModelError, SetupError
    from evaluation.results import (
        EvaluationResult,
        ProgressEvent,
        ReproCard,
        SampleRecord,
        ScoreRow,
    )
    from evaluation.spec import ModelSpec

_EXPORTS = {
    "ModelError": "evaluation.errors",
    "evaluate": "evaluation.benchmarks",
    "EvaluationResult": "evaluation.results",
    "ProgressEvent": "evaluation.results",
    "ReproCard": "evaluation.results",
    "SampleRecord": "evaluation.results",
    "ScoreRow": "evaluation.results",
    "ModelSpec": "evaluation.spec",
    "SetupError": "evaluation.errors",
}

__all__ = [
    "EvaluationResult",
    "ModelError",
    "ModelSpec",
    "ProgressEvent",
    "ReproCard",
    "SampleRecord",
    "ScoreRow",
    "SetupError",
    "evaluate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
