"""Compare 2-4 models on one release: per-cell deltas with a paired test, and disagreements.

The cells are the board's, read from the declaration: where the benchmark averages over a
dimension (NaVAB: nations), each value of it crossed with the other tab dimensions (nation x
mode); elsewhere the overall and each value of each tab dimension (DiverValue-Bench: each
region). Each cell pairs the models' per-item values of the metric the board ranks by (a
correct rate's 1/0, an item's OPA over its thresholds) on the items every model answered.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from evaluation.benchmarks.contract import BenchmarkDefinition, ItemField, MetricKind
from evaluation.benchmarks.disparity import item_metric_value
from leaderboard.binary_rows import fetch_rows
from leaderboard.boards.paired import PairedResult, paired_bootstrap
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import sample_details
from leaderboard.evals.models import EvaluationJob, LanguageModel, SampleResult
from leaderboard.evals.score_table import scored_methods
from leaderboard.evals.slices import declaration

MAX_MODELS = 4
MAX_DISAGREEMENTS = 200

CellKey = tuple[tuple[tuple[str, str], ...], str]  # (slice values, method)


@dataclass
class CompareCell:
    slices: dict[str, str]
    #: the slice's values as the declaration labels them, one per compared dimension
    labels: list[str]
    method: str
    method_label: str
    #: the method's primary metric (the board ranks by it): per-item values of it are paired
    metric_label: str
    kind: MetricKind
    rates: list[float | None]
    tests: list[PairedResult | None]  # model i vs model 0 (None for model 0)

    @property
    def entries(self) -> list[tuple[float | None, PairedResult | None]]:
        """(value, test against the first model) per model, for templates."""
        return list(zip(self.rates, self.tests, strict=True))


@dataclass
class Disagreement:
    item_id: int
    uid: str
    slice_summary: str
    #: the item's declared text, (label, value), as the benchmark lists it
    fields: list[tuple[str, str]]
    method: str
    method_label: str
    chosen: list[str]
    correct: list[bool | None]

    @property
    def answers(self) -> list[tuple[str, bool | None]]:
        """(what each model chose, whether that was right) per model."""
        return list(zip(self.chosen, self.correct, strict=True))


@dataclass
class Comparison:
    release: DatasetRelease
    models: list[LanguageModel]
    #: the dimensions the cells are cut by, as (key, label)
    dimensions: list[tuple[str, str]] = field(default_factory=list)
    cells: list[CompareCell] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    disagreement_total: int = 0
    #: methods left out because a compared model has no score of them: (method label, why)
    unscored: list[tuple[str, str]] = field(default_factory=list)


def comparable_models(release: DatasetRelease, ids: list[int]) -> QuerySet[LanguageModel]:
    return LanguageModel.objects.filter(pk__in=ids).with_latest_job(release)


def item_cells(
    benchmark: BenchmarkDefinition, slices: dict[str, str]
) -> list[tuple[tuple[str, str], ...]]:
    """The compared cells an item with these slice values counts in (none for an unscored
    value)."""
    if any(slices.get(d.key) in d.unscored for d in benchmark.slices):
        return []
    tabs = [d for d in benchmark.slices if d.tabs or d.averaged]
    if benchmark.averaged_dimension is not None:
        return [tuple((d.key, slices.get(d.key, "")) for d in tabs)]
    return [(), *(((d.key, slices.get(d.key, "")),) for d in tabs)]


def _shown_fields(benchmark: BenchmarkDefinition) -> list[ItemField]:
    return [f for f in benchmark.content_fields() if f.required and f.kind == "text"]


def _seed(key: CellKey) -> int:
    # Stable across processes (hash() of a str is salted): the page shows the same p-values.
    return zlib.crc32(repr(key).encode())


def _scored(
    benchmark: BenchmarkDefinition, models: list[LanguageModel], methods: list[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """The METHODS every model's job has scores of, and (method label, why) for the others: a
    method a run left out keeps its per-item records, whose paired difference would read as
    a measurement ("Δ 0.0%, p = 1.000" between two PAA runs without a verdict)."""
    jobs = list(
        EvaluationJob.objects.filter(pk__in=[m.latest_job_id for m in models])  # type: ignore[attr-defined]
    )
    scored = scored_methods(jobs)
    cards = {job.pk: job.repro_card.get("not_run") or {} for job in jobs}
    kept, left_out = [], []
    for key in methods:
        missing = [m for m in models if (m.latest_job_id, key) not in scored]  # type: ignore[attr-defined]
        if not missing:
            kept.append(key)
            continue
        why = "; ".join(
            f"{m.display_name}: {cards[m.latest_job_id].get(key) or 'no scores'}"  # type: ignore[attr-defined]
            for m in missing
        )
        left_out.append((benchmark.method(key).label, f"no scores for {why}"))
    return kept, left_out


def compare(release: DatasetRelease, ids: list[int], method: str | None = None) -> Comparison:
    benchmark = declaration(release)
    found = {m.pk: m for m in comparable_models(release, ids)}
    models = [found[i] for i in ids if i in found and getattr(found[i], "latest_job_id", None)]
    averaged = benchmark.averaged_dimension
    shown_dims = [d for d in benchmark.slices if d.tabs or d.averaged]
    result = Comparison(
        release=release, models=models, dimensions=[(d.key, d.label) for d in shown_dims]
    )
    if len(models) < 2:
        return result
    job_ids = [m.latest_job_id for m in models]  # type: ignore[attr-defined]
    position = {job_id: i for i, job_id in enumerate(job_ids)}
    compared = [m.key for m in benchmark.methods if not method or m.key == method]
    scored, result.unscored = _scored(benchmark, models, compared)
    samples = SampleResult.objects.filter(job_id__in=job_ids, method__in=scored)
    # outcome[(item, method)][model index] = (chosen, correct, the item's primary value)
    outcome: dict[tuple[int, str], dict[int, tuple[str, bool | None, float]]] = defaultdict(dict)
    # Outcomes from the jobs' details files, only for methods whose primary metric needs them.
    long_outcomes = {
        (job_id, meth): sample_details.outcomes(job_id, meth)
        for job_id in job_ids
        for meth in scored
        if (declared := benchmark.method(meth)).primary != declared.value_metric.key
    }
    declared_methods = {key: benchmark.method(key) for key in scored}
    # Read whole, in the binary protocol: two NaVAB models are 190,000 rows, and Django's
    # reading a hundred at a time was a quarter of the page.
    read = samples.order_by().values_list(
        "job_id", "item_id", "method", "chosen", "correct", "value"
    )
    for job_id, item_id, meth, chosen, correct, value in fetch_rows(read):
        # The board's ranking metric, per item (DiverValue-Bench: OPA, not the stored margin).
        declared = declared_methods[meth]
        if (job_id, meth) in long_outcomes:
            details = {"outcome": long_outcomes[(job_id, meth)].get(item_id)}
            primary = item_metric_value(declared, declared.primary, value, details)
        else:  # the stored value measures the primary metric (hundreds of thousands of rows)
            primary = float(value)
        if primary is not None:
            outcome[(item_id, meth)][position[job_id]] = (chosen, correct, primary)
    # Only the items every model answered are paired (a job may cover one split of a large
    # release), named by their ids (joined to the first job's results instead, 63,000 NaVAB
    # items took 0.4 s); their text only where a disagreement shows it, read below.
    answered = {item for (item, _), per_model in outcome.items() if len(per_model) == len(models)}
    # Slices read as JSON text and decoded once a distinct text: a release's items take a
    # few combinations of slice values (NaVAB: nation x mode), and decoding each of 63,000
    # items' was a third of the page.
    decoded: dict[str, dict[str, Any]] = {}
    read_items = (
        release.items.filter(pk__any=answered)
        .order_by()
        .annotate(slices_text=Cast("slices", TextField()))
    )
    items: dict[int, dict[str, Any]] = {}
    for pk, uid, text in fetch_rows(read_items.values_list("pk", "uid", "slices_text")):
        if text not in decoded:
            parsed = json.loads(text)
            decoded[text] = parsed if isinstance(parsed, dict) else {}
        items[pk] = {"uid": uid, "slices": decoded[text]}
    by_cell: dict[CellKey, list[list[float]]] = defaultdict(list)
    disagreeing: list[tuple[int, str, dict[int, tuple[str, bool | None, float]]]] = []
    # An item's cells follow from its slice values, which few combinations take (NaVAB:
    # nation x mode): worked out once per combination, not per item and method.
    cells_of: dict[tuple[Any, ...], list[tuple[tuple[str, str], ...]]] = {}
    dimension_keys = [d.key for d in benchmark.slices]
    for (item_id, meth), per_model in outcome.items():
        if len(per_model) != len(models) or item_id not in items:
            continue  # only items every model answered are paired
        values = [per_model[i][2] for i in range(len(models))]
        slices = items[item_id]["slices"]
        combination = tuple(slices.get(k) for k in dimension_keys)
        if combination not in cells_of:
            cells_of[combination] = item_cells(benchmark, slices)
        for cell in cells_of[combination]:
            by_cell[(cell, meth)].append(values)
        choices = {per_model[i][0] for i in range(len(models))}
        outcomes = {per_model[i][1] for i in range(len(models))}
        if len(choices) > 1 or len(outcomes) > 1:
            disagreeing.append((item_id, meth, per_model))
    methods = [m.key for m in benchmark.methods]

    def cell_order(key: CellKey) -> tuple[Any, ...]:
        cell, meth = key
        dims = [d.key for d in benchmark.slices]
        values = tuple((dims.index(k), benchmark.slice_dimension(k).sort_key(v)) for k, v in cell)
        return (len(cell), values, methods.index(meth))

    for key in sorted(by_cell, key=cell_order):
        cell, meth = key
        rows = by_cell[key]
        declared = benchmark.method(meth)
        measured = declared.primary_metric
        columns = list(zip(*rows, strict=True))
        rates: list[float | None] = [sum(c) / len(c) for c in columns]
        tests: list[PairedResult | None] = [None] + [
            paired_bootstrap(columns[0], columns[i], seed=_seed(key)) for i in range(1, len(models))
        ]
        slices = dict(cell)
        result.cells.append(
            CompareCell(
                slices=slices,
                labels=[
                    d.label_of(slices[d.key]) if d.key in slices else "All" for d in shown_dims
                ],
                method=meth,
                method_label=declared.label,
                metric_label=measured.label,
                kind=measured.kind,
                rates=rates,
                tests=tests,
            )
        )
    result.disagreement_total = len(disagreeing)
    order_key = averaged.key if averaged else ""
    disagreeing.sort(
        key=lambda d: (
            str(items[d[0]]["slices"].get(order_key, "")),
            items[d[0]]["uid"],
            d[1],
        )
    )
    shown = _shown_fields(benchmark)
    listed = disagreeing[:MAX_DISAGREEMENTS]
    texts = dict(release.items.filter(pk__in={d[0] for d in listed}).values_list("pk", "data"))
    for item_id, meth, per_model in listed:
        item = items[item_id]
        result.disagreements.append(
            Disagreement(
                item_id=item_id,
                uid=item["uid"],
                slice_summary=" · ".join(
                    d.label_of(str(item["slices"].get(d.key, ""))) for d in benchmark.slices
                ),
                fields=[(f.label, str(texts[item_id].get(f.name, ""))) for f in shown],
                method=meth,
                method_label=benchmark.method(meth).label,
                chosen=[per_model[i][0] for i in range(len(models))],
                correct=[per_model[i][1] for i in range(len(models))],
            )
        )
    return result
