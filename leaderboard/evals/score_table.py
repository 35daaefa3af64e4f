"""A job's scores as a table laid out by its benchmark's declaration: one column per slice
dimension, the method and metric, the value with its interval, and the declared sub-metrics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from evaluation.benchmarks.contract import Benchmark
from leaderboard.evals.models import Score


@dataclass(frozen=True)
class ScoreLine:
    slices: list[str]  # the cell's value labels, in dimension order
    method: str
    metric: str
    score: Score
    parts: list[dict[str, Any] | None]  # per part column: {"value", "n"} or None


@dataclass(frozen=True)
class ScoreTable:
    dimensions: list[str]
    part_labels: list[str]
    lines: list[ScoreLine]


def score_table(benchmark: Benchmark, scores: Iterable[Score]) -> ScoreTable:
    part_keys: dict[str, str] = {}
    for method in benchmark.methods:
        for sub in method.submetrics:
            part_keys.setdefault(sub.key, sub.label)
    lines = []
    for score in scores:
        try:
            method = benchmark.method(score.method)
            method_label, metric_label = method.label, method.metric(score.metric).label
        except KeyError:  # a method or metric the declaration no longer has: shown as stored
            method_label, metric_label = score.method, score.metric
        lines.append(
            ScoreLine(
                slices=[d.label_of(str(score.slices.get(d.key, ""))) for d in benchmark.slices],
                method=method_label,
                metric=metric_label,
                score=score,
                parts=[score.parts.get(key) for key in part_keys],
            )
        )
    return ScoreTable(
        dimensions=[d.label for d in benchmark.slices],
        part_labels=list(part_keys.values()),
        lines=lines,
    )
