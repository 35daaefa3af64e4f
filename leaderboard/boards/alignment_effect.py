"""Base vs aligned, on exactly the items both were scored on after the alignment (never its
training items), paired item by item, with intervals as the method's metric declares them
(resampling users where a benchmark's items cluster by user) and a paired bootstrap on the
difference.

Three summary groups per method: every evaluated item, the alignment's target (NaVAB: the
nation's held-out topics; DiverValue-Bench: the group's test users) and the rest. Below them
the board's cells (NaVAB: nation x mode; DiverValue-Bench: each country and region), so a
reader sees whether aligning toward one population moved the others. A method whose per-item
value is not a right-or-wrong outcome (a margin) is also compared on its correct rate.

Out of domain: the same comparison on the benchmark's out-of-domain sets (DiverValue-Bench:
UF-P-4), every item and each of its cells, from the runs the alignment job queued there
(`alignment.queue_out_of_domain`); shown beside the in-domain one, never pooled with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evaluation.benchmarks import get_benchmark, out_of_domain_sets
from evaluation.benchmarks.contract import (
    BenchmarkDefinition,
    IntervalMethod,
    Method,
    Metric,
    MetricKind,
)
from evaluation.benchmarks.intervals import metric_interval
from evaluation.stats import cell_seed
from leaderboard.boards.cache import cached_value
from leaderboard.boards.compare import item_cells
from leaderboard.boards.paired import PairedResult, paired_bootstrap
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import EvaluationJob, JobKind, LanguageModel, ModelType
from leaderboard.evals.slices import declaration

ALL, TARGET, REST = "all", "target", "rest"
ALL_LABEL = "All evaluated items"


@dataclass(frozen=True)
class Outcome:
    value: float
    correct: bool | None
    cluster: str


@dataclass(frozen=True)
class EffectRow:
    #: what the row covers: "All evaluated items", the target, "Rest", or a board cell
    label: str
    method: str
    #: what is compared: the method's per-item metric, or its correct rate
    measure: str
    kind: MetricKind
    is_target: bool
    n: int
    #: clusters (users) among the n items; None where items are independent
    clusters: int | None
    base: float
    base_ci: tuple[float, float]
    aligned: float
    aligned_ci: tuple[float, float]
    paired: PairedResult
    #: what one cluster is (the metric's `cluster_noun`), where items cluster
    cluster_noun: str = ""

    @property
    def significant(self) -> bool:
        return self.paired.p_value < 0.05


@dataclass(frozen=True)
class OutOfDomainEffect:
    """Base vs aligned on one out-of-domain set's release: every item, then its cells."""

    benchmark: BenchmarkDefinition
    release: DatasetRelease
    #: "" once both runs have finished; else why there is no comparison yet
    pending: str
    summary: list[EffectRow]
    rows: list[EffectRow]

    @property
    def label(self) -> str:
        return self.benchmark.name


@dataclass(frozen=True)
class AlignmentEffect:
    base: LanguageModel
    aligned: LanguageModel
    base_job: EvaluationJob
    aligned_job: EvaluationJob
    #: the slice the model was aligned toward, as labels (e.g. {"Nation": "United States"})
    target: dict[str, str]
    #: all evaluated items, the target and the rest, per method and measure
    summary: list[EffectRow]
    #: the board's cells, per method and measure
    rows: list[EffectRow]
    #: the benchmark's out-of-domain sets the alignment was also scored on
    out_of_domain: tuple[OutOfDomainEffect, ...] = ()
    #: whether the benchmark declares out-of-domain sets at all (NaVAB: none)
    out_of_domain_declared: bool = False

    @property
    def in_domain(self) -> list[EffectRow]:
        """The summary's row of every evaluated item, per method and measure."""
        return [r for r in self.summary if r.label == ALL_LABEL]

    @property
    def target_label(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.target.items())


def _outcomes(
    job: EvaluationJob, benchmark: BenchmarkDefinition
) -> dict[str, dict[int, tuple[dict[str, str], Outcome]]]:
    """method -> item -> (its slice values, its outcome)."""
    fields = {f for m in benchmark.methods if (f := m.value_metric.cluster_field)}
    out: dict[str, dict[int, tuple[dict[str, str], Outcome]]] = {}
    rows = job.samples.values_list(
        "item_id", "item__slices", "item__data", "method", "value", "correct"
    )
    for item_id, slices, data, method, value, correct in rows:
        values: Mapping[str, Any] = {**data, **slices}
        cluster = "/".join(str(values.get(f, "")) for f in sorted(fields)) or str(item_id)
        out.setdefault(method, {})[item_id] = (slices, Outcome(float(value), correct, cluster))
    return out


def _measures(method: Method) -> list[tuple[str, Metric, bool]]:
    """(label, metric, whether it reads `correct`) for each compared measure."""
    metric = method.value_metric
    measures = [(metric.label, metric, False)]
    if metric.kind is not MetricKind.PROPORTION:
        cluster = metric.cluster_field
        correct = Metric(
            key="correct",
            label="Correct rate",
            kind=MetricKind.PROPORTION,
            interval=IntervalMethod.CLUSTER if cluster else IntervalMethod.BINOMIAL,
            lower=0.0,
            upper=1.0,
            cluster_field=cluster,
            cluster_noun=metric.cluster_noun,
        )
        measures.append(("Correct rate", correct, True))
    return measures


def _row(
    label: str,
    method: Method,
    pairs: list[tuple[Outcome, Outcome]],
    is_target: bool,
    seed: int,
) -> list[EffectRow]:
    rows = []
    for measure, metric, reads_correct in _measures(method):
        usable = [
            (a, b) for a, b in pairs if not reads_correct or None not in (a.correct, b.correct)
        ]
        if not usable:
            continue

        def value(o: Outcome, reads_correct: bool = reads_correct) -> float:
            return float(bool(o.correct)) if reads_correct else o.value

        a = [value(x) for x, _ in usable]
        b = [value(y) for _, y in usable]
        clustered = metric.interval is IntervalMethod.CLUSTER
        clusters = [x.cluster for x, _ in usable] if clustered else None
        cell = (label, method.key, measure)
        rows.append(
            EffectRow(
                label=label,
                method=method.label,
                measure=measure,
                kind=metric.kind,
                is_target=is_target,
                n=len(usable),
                clusters=len(set(clusters)) if clusters else None,
                base=sum(a) / len(a),
                base_ci=metric_interval(metric, a, cell_seed(seed, "base", *cell), clusters),
                aligned=sum(b) / len(b),
                aligned_ci=metric_interval(metric, b, cell_seed(seed, "aligned", *cell), clusters),
                paired=paired_bootstrap(a, b, seed=seed, clusters=clusters),
                cluster_noun=metric.cluster_noun if clustered else "",
            )
        )
    return rows


def _jobs(aligned: LanguageModel) -> tuple[EvaluationJob, EvaluationJob, EvaluationJob] | None:
    """(alignment job, aligned model's held-out run, base's run on the same items)."""
    align_job = (
        EvaluationJob.objects.filter(kind=JobKind.ALIGN, produced_model=aligned)
        .select_related("model", "release__benchmark")
        .first()
    )
    if align_job is None:
        return None
    aligned_job = aligned.jobs.filter(release=align_job.release).latest_finished()
    if aligned_job is None:
        return None
    # The base's run on the very same held-out release (same items, same option order).
    base_job = align_job.model.jobs.filter(
        release=align_job.release, exclude_uids=aligned_job.exclude_uids
    ).latest_finished()
    if base_job is None:
        return None
    return align_job, aligned_job, base_job


def alignment_effect(aligned: LanguageModel, seed: int = 0) -> AlignmentEffect | None:
    """None until both held-out evaluations (aligned model and base) have finished."""
    jobs = _jobs(aligned)
    if jobs is None:
        return None
    align_job, aligned_job, base_job = jobs
    # Resampling users for every row takes seconds on a full release; the runs are finished,
    # so their comparison is built once per board version.
    key = f"alignment-effect|{align_job.pk}|{aligned_job.pk}|{base_job.pk}|{seed}"
    return cached_value(key, lambda: _effect(align_job, aligned_job, base_job, seed))


def _effect(
    align_job: EvaluationJob, aligned_job: EvaluationJob, base_job: EvaluationJob, seed: int
) -> AlignmentEffect:
    aligned = aligned_job.model
    benchmark = declaration(align_job.release)
    target = align_job.alignment_target
    labels = {
        benchmark.slice_dimension(k).label: benchmark.slice_dimension(k).label_of(v)
        for k, v in target.items()
    }
    summary, rows = _compare(benchmark, base_job, aligned_job, target, labels, seed)
    return AlignmentEffect(
        align_job.model,
        aligned,
        base_job,
        aligned_job,
        labels,
        summary,
        rows,
        tuple(_out_of_domain(align_job, aligned, seed)),
        bool(out_of_domain_sets(benchmark.slug)),
    )


def _out_of_domain(
    align_job: EvaluationJob, aligned: LanguageModel, seed: int
) -> list[OutOfDomainEffect]:
    found = []
    for entry in align_job.alignment.get("out_of_domain") or []:
        release = (
            DatasetRelease.objects.filter(pk=entry.get("release"))
            .select_related("benchmark")
            .first()
        )
        if release is None:
            continue
        benchmark = get_benchmark(release.benchmark.slug)
        after = aligned.jobs.filter(release=release, exclude_uids=[]).latest_finished()
        before = align_job.model.jobs.filter(release=release, exclude_uids=[]).latest_finished()
        if after is None or before is None:
            waiting = " and ".join(
                name
                for name, job in (("the aligned model's", after), ("its base model's", before))
                if job is None
            )
            pending = f"Waiting for {waiting} evaluation on {release.version}."
            found.append(OutOfDomainEffect(benchmark, release, pending, [], []))
            continue
        summary, rows = _compare(benchmark, before, after, {}, {}, seed)
        found.append(OutOfDomainEffect(benchmark, release, "", summary, rows))
    return found


def _compare(
    benchmark: BenchmarkDefinition,
    base_job: EvaluationJob,
    aligned_job: EvaluationJob,
    target: Mapping[str, str],
    labels: Mapping[str, str],
    seed: int,
) -> tuple[list[EffectRow], list[EffectRow]]:
    """(all items, the target and the rest; each cell), paired item by item, per method."""
    base_items = _outcomes(base_job, benchmark)
    after_items = _outcomes(aligned_job, benchmark)
    summary: list[EffectRow] = []
    rows: list[EffectRow] = []
    for method in benchmark.methods:
        aligned_items = after_items.get(method.key, {})
        shared = {
            item: (slices, base_items[method.key][item][1], outcome)
            for item, (slices, outcome) in aligned_items.items()
            if item in base_items.get(method.key, {})
        }
        groups: dict[str, list[tuple[Outcome, Outcome]]] = {ALL: [], TARGET: [], REST: []}
        cells: dict[tuple[tuple[str, str], ...], list[tuple[Outcome, Outcome]]] = {}
        for slices, before, after in shared.values():
            in_target = bool(target) and all(slices.get(k) == v for k, v in target.items())
            groups[ALL].append((before, after))
            if target:
                groups[TARGET if in_target else REST].append((before, after))
            for cell in item_cells(benchmark, slices):
                if cell:
                    cells.setdefault(cell, []).append((before, after))
        names = {ALL: ALL_LABEL, TARGET: ", ".join(labels.values()), REST: "Rest"}
        for group, pairs in groups.items():
            summary += _row(names[group], method, pairs, group == TARGET, seed)
        for cell in sorted(
            cells, key=lambda c: [benchmark.slice_dimension(k).sort_key(v) for k, v in c]
        ):
            cell_target = bool(target) and all(dict(cell).get(k) == v for k, v in target.items())
            label = " · ".join(benchmark.slice_dimension(k).label_of(v) for k, v in cell)
            rows += _row(label, method, cells[cell], cell_target, seed)
    return summary, rows


@dataclass(frozen=True)
class ReportedPair:
    """One of the publisher's models as it reports it in domain and out of domain (its
    primary metric over all items of each set), shown beside the site's effect, not run here."""

    model: str
    #: set label (the release as the publisher names it) -> (value, spread or None)
    values: dict[str, tuple[float, float | None]]


def reported_side_by_side(benchmark: BenchmarkDefinition) -> tuple[list[str], list[ReportedPair]]:
    """The publisher's models reported on BENCHMARK and on one of its out-of-domain sets (the
    publisher's alignment study: DiverValue-Bench's base and LoRA + DPO models on DVB-test and
    UF-P-4), with the sets' names in order: in domain first."""
    from leaderboard.boards.models import ReportedResult

    outside = [b.slug for b in out_of_domain_sets(benchmark.slug)]
    if not outside:
        return [], []
    rows = ReportedResult.objects.filter(
        benchmark__slug__in=[benchmark.slug, *outside], slices={}
    ).select_related("benchmark")
    by_model: dict[str, dict[str, tuple[float, float | None]]] = {}
    sets: dict[tuple[bool, str], None] = {}
    studied = {r.model_name for r in rows if r.benchmark.slug in outside}
    for result in rows:
        primary = get_benchmark(result.benchmark.slug).method(result.method).primary
        if result.model_name not in studied or primary not in result.values:
            continue
        sets[(result.benchmark.slug in outside, result.release_name)] = None
        by_model.setdefault(result.model_name, {})[result.release_name] = (
            float(result.values[primary]),
            result.spreads.get(primary),
        )
    return [name for _, name in sorted(sets)], [
        ReportedPair(model, values) for model, values in sorted(by_model.items())
    ]


def row_dict(row: EffectRow) -> dict[str, Any]:
    return {
        "label": row.label,
        "method": row.method,
        "measure": row.measure,
        "is_target": row.is_target,
        "n": row.n,
        "clusters": row.clusters,
        "base": row.base,
        "base_ci": list(row.base_ci),
        "aligned": row.aligned,
        "aligned_ci": list(row.aligned_ci),
        "delta": row.paired.delta,
        "delta_ci": [row.paired.ci_low, row.paired.ci_high],
        "p_value": row.paired.p_value,
    }


def effect_dict(effect: AlignmentEffect) -> dict[str, Any]:
    """The effect for the API: in domain and each out-of-domain set side by side, never
    pooled, and the publisher's own figures of the same study, labelled as such."""
    benchmark = declaration(effect.aligned_job.release)
    sets, pairs = reported_side_by_side(benchmark)
    return {
        "base_model_id": effect.base.pk,
        "aligned_model_id": effect.aligned.pk,
        "target": effect.target,
        "in_domain": {
            "benchmark": benchmark.slug,
            "release": effect.aligned_job.release.version,
            "summary": [row_dict(r) for r in effect.summary],
            "cells": [row_dict(r) for r in effect.rows],
        },
        "out_of_domain": [
            {
                "benchmark": ood.benchmark.slug,
                "label": ood.label,
                "release": ood.release.version,
                "pending": ood.pending,
                "summary": [row_dict(r) for r in ood.summary],
                "cells": [row_dict(r) for r in ood.rows],
            }
            for ood in effect.out_of_domain
        ],
        "reported": {
            "label": "reported by the publisher, not run here",
            "sets": sets,
            "models": [
                {
                    "model": pair.model,
                    "values": {
                        name: {"value": value, "spread": spread}
                        for name, (value, spread) in pair.values.items()
                    },
                }
                for pair in pairs
            ],
        },
    }


def derived_effects(base: LanguageModel) -> list[AlignmentEffect]:
    """The effect of each model aligned from BASE whose held-out runs have both finished."""
    aligned = base.derived_models.filter(model_type=ModelType.ALIGNED).order_by("id")
    return [found for model in aligned if (found := alignment_effect(model)) is not None]
