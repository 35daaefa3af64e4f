"""NaVAB evaluation harness: plain Python on top of EleutherAI lm-eval (no Django here).

The entry point is `evaluate(spec, release_dir, ...)`; `python -m evaluation` wraps it.
"""

from evaluation.errors import ModelError
from evaluation.harness import evaluate
from evaluation.results import EvaluationResult, ProgressEvent, ReproCard, SampleRecord, ScoreRow
from evaluation.spec import ModelSpec

__all__ = [
    "EvaluationResult",
    "ModelError",
    "ModelSpec",
    "ProgressEvent",
    "ReproCard",
    "SampleRecord",
    "ScoreRow",
    "evaluate",
]
