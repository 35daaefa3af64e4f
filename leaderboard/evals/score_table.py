"""A job's scores as a table laid out by its benchmark's declaration: one column per slice
dimension, the method and metric, the value with its interval, and the declared sub-metrics.

A score's parts are read by their declared key, in the declared order: stored parts are a
JSON object whose key order the database does not keep (PostgreSQL's jsonb orders "neg"
before "pos"), so nothing may lay them out by position."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evaluation.benchmarks.contract import BenchmarkDefinition, SubMetric
from leaderboard.evals.models import EvaluationJob, Score


def scored_methods(jobs: Iterable[EvaluationJob]) -> set[tuple[int, str]]:
    """(job id, method) of the methods each job has scores for. A method the run left out
    (its card's `not_run`: PAA without a verdict) keeps its per-item records but has no
    score, and nothing may show a number for it (a disparity, a paired difference)."""
    jobs = list(jobs)
    scored = Score.objects.filter(job__in=jobs).order_by().values_list("job_id", "method")
    not_run = {(job.pk, key) for job in jobs for key in job.repro_card.get("not_run") or {}}
    return set(scored.distinct()) - not_run


@dataclass(frozen=True)
class ShownPart:
    """One declared sub-metric of a score: a rate over its subset of items, or (counted) the
    number of items in it (unparsable, empty, refused answers), never a rate of those."""

    key: str
    label: str
    counted: bool
    value: float | None
    n: int | None


def shown_parts(submetrics: Sequence[SubMetric], parts: Mapping[str, Any]) -> list[ShownPart]:
    """PARTS (stored, key -> {"value", "n"}) as the declared SUBMETRICS, in their order; a
    part the score lacks is shown as unknown."""
    shown = []
    for sub in submetrics:
        stored = parts.get(sub.key) or {}
        n = stored.get("n")
        shown.append(
            ShownPart(
                key=sub.key,
                label=sub.label,
                counted=sub.counted,
                value=None if sub.counted else stored.get("value"),
                n=int(n) if n is not None else None,
            )
        )
    return shown


@dataclass(frozen=True)
class ScoreLine:
    slices: list[str]  # the cell's value labels, in dimension order
    method: str
    metric: str
    score: Score
    parts: list[ShownPart | None]  # per part column; None where the method declares none


@dataclass(frozen=True)
class ScoreTable:
    dimensions: list[str]
    part_labels: list[str]
    lines: list[ScoreLine]


def score_table(benchmark: BenchmarkDefinition, scores: Iterable[Score]) -> ScoreTable:
    part_labels: dict[str, str] = {}
    for method in benchmark.methods:
        for sub in method.submetrics:
            part_labels.setdefault(sub.key, sub.label)
    lines = []
    for score in scores:
        try:
            method = benchmark.method(score.method)
            method_label, metric_label = method.label, method.metric(score.metric).label
            parts = {p.key: p for p in shown_parts(method.submetrics, score.parts)}
        except KeyError:  # a method or metric the declaration no longer has: shown as stored
            method_label, metric_label, parts = score.method, score.metric, {}
        lines.append(
            ScoreLine(
                slices=[d.label_of(str(score.slices.get(d.key, ""))) for d in benchmark.slices],
                method=method_label,
                metric=metric_label,
                score=score,
                parts=[parts.get(key) for key in part_labels],
            )
        )
    return ScoreTable(
        dimensions=[d.label for d in benchmark.slices],
        part_labels=list(part_labels.values()),
        lines=lines,
    )
