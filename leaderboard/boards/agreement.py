"""Method agreement on a release (`/<benchmark>/agreement/`): for each ranked model scored by
both methods of a declared pair, how far their per-item verdicts agree, overall and per slice,
flagged where the two rates differ beyond their paired interval, with the items on which they
disagree (`evaluation.benchmarks.agreement` computes; this module reads the rows)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.http import QueryDict

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.agreement import Agreement, method_agreement
from evaluation.benchmarks.contract import BenchmarkDefinition, Method, SliceDimension
from evaluation.stats import cell_seed
from leaderboard.boards.cache import cached_value
from leaderboard.boards.params import chosen_option, resolve_release
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.evals.models import LanguageModel, SampleResult

#: disagreeing items listed per model, the most confident first
MAX_ITEMS = 20

#: an item's uid, slices and cluster label
ItemRow = tuple[str, dict[str, Any], str]
#: an item's primary key and its (verdict, value) under each method of a pair
Paired = tuple[int, tuple[bool, float], tuple[bool, float]]


@dataclass(frozen=True)
class MethodPair:
    a: Method
    b: Method

    @property
    def key(self) -> str:
        return f"{self.a.key}-{self.b.key}"

    @property
    def label(self) -> str:
        return f"{self.a.label} vs {self.b.label}"


@dataclass(frozen=True)
class SliceAgreement:
    dimension: SliceDimension
    value: str
    agreement: Agreement

    @property
    def label(self) -> str:
        return self.dimension.label_of(self.value)

    @property
    def too_few(self) -> bool:
        """Greyed as the board greys it: too few items, or one cluster (no interval)."""
        return self.agreement.n < self.dimension.min_n or self.agreement.one_cluster


@dataclass(frozen=True)
class Disagreement:
    uid: str
    verdict_a: bool
    verdict_b: bool
    value_a: float


@dataclass
class ModelAgreement:
    model: LanguageModel
    job_id: int
    overall: Agreement
    slices: list[SliceAgreement] = field(default_factory=list)
    items: list[Disagreement] = field(default_factory=list)

    @property
    def flagged(self) -> list[SliceAgreement]:
        return [s for s in self.slices if not s.too_few and s.agreement.disagrees]


def method_pairs(benchmark: BenchmarkDefinition) -> list[MethodPair]:
    return [MethodPair(benchmark.method(a), benchmark.method(b)) for a, b in benchmark.method_pairs]


def agreement_state(
    params: QueryDict, *, staff: bool, benchmark: str
) -> tuple[DatasetRelease, BenchmarkDefinition, list[MethodPair], MethodPair]:
    """The release and method pair the query string asks for (`?pair=mc-aj`; default the
    first declared), a 404 naming what the benchmark does not declare."""
    release = resolve_release(params, staff=staff, benchmark=benchmark)
    declared = get_benchmark(benchmark)
    pairs = method_pairs(declared)
    pair = chosen_option(
        params,
        "pair",
        pairs,
        none=f"{declared.name} declares no pair of methods scoring the same items",
        unknown="Unknown method pair {key}",
    )
    return release, declared, pairs, pair


def as_api(agreement: Agreement) -> dict[str, Any]:
    """An agreement as the API gives it (rates as proportions, intervals as [low, high])."""
    return {
        "n": agreement.n,
        "clusters": agreement.clusters,
        "same_verdict": agreement.agree,
        "kappa": agreement.kappa,
        "aligned_a": agreement.rate_a,
        "aligned_a_ci": list(agreement.ci_a),
        "aligned_b": agreement.rate_b,
        "aligned_b_ci": list(agreement.ci_b),
        "difference": agreement.diff,
        "difference_ci": list(agreement.ci_diff),
        "disagree": agreement.disagrees,
    }


def _cluster_field(pair: MethodPair) -> str | None:
    # Items cluster (users) where either side's primary metric resamples clusters.
    for method in (pair.a, pair.b):
        if method.primary_metric.cluster_field:
            return method.primary_metric.cluster_field
    return None


def item_rows(release: DatasetRelease, cluster: str | None) -> dict[int, ItemRow]:
    """Each item's uid, slices and cluster label, by primary key (one query)."""
    fields = ["pk", "uid", "slices"] + ([f"data__{cluster}"] if cluster else [])
    return {
        row[0]: (row[1], row[2] or {}, str(row[3]) if cluster else "")
        for row in Item.objects.filter(release=release).values_list(*fields)
    }


def _model_agreement(
    model: LanguageModel,
    job_id: int,
    rows: Iterable[tuple[int, int, str, bool | None, float]],
    pair: MethodPair,
    benchmark: BenchmarkDefinition,
    items: dict[int, ItemRow],
    clustered: bool,
) -> ModelAgreement | None:
    """The agreement of one model's job from its ROWS (job, item, method, verdict, value)."""
    verdicts: dict[int, dict[str, tuple[bool, float]]] = defaultdict(dict)
    for _, item_id, method, correct, value in rows:
        verdicts[item_id][method] = (bool(correct), float(value))
    paired = [
        (item_id, v[pair.a.key], v[pair.b.key])
        for item_id, v in sorted(verdicts.items())
        if pair.a.key in v and pair.b.key in v and item_id in items
    ]
    if not paired:
        return None

    def measure(chosen: list[Paired], *labels: str) -> Agreement | None:
        return method_agreement(
            [a[0] for _, a, _ in chosen],
            [b[0] for _, _, b in chosen],
            cell_seed(job_id, pair.key, *labels),
            [items[i][2] for i, _, _ in chosen] if clustered else None,
        )

    overall = measure(paired)
    assert overall is not None
    found = ModelAgreement(model, job_id, overall)
    for dimension in benchmark.slices:
        by_value: dict[str, list[Paired]] = defaultdict(list)
        for row in paired:
            raw = items[row[0]][1].get(dimension.key)
            if raw is not None and str(raw) not in dimension.unscored:
                by_value[str(raw)].append(row)
        for cell in sorted(by_value, key=dimension.sort_key):
            agreement = measure(by_value[cell], dimension.key, cell)
            if agreement is not None:
                found.slices.append(SliceAgreement(dimension, cell, agreement))
    # Most confident first: the log-likelihood side's value furthest from its decision.
    disagreeing = sorted(
        (row for row in paired if row[1][0] != row[2][0]),
        key=lambda row: (-abs(row[1][1]), items[row[0]][0]),
    )
    found.items = [
        Disagreement(items[i][0], a[0], b[0], a[1]) for i, a, b in disagreeing[:MAX_ITEMS]
    ]
    return found


def agreement_board(
    release: DatasetRelease, benchmark: BenchmarkDefinition, pair: MethodPair
) -> list[ModelAgreement]:
    """Every ranked model scored by both methods on the release, in its board run, most
    flagged slices first; built once per board version."""

    def build() -> list[ModelAgreement]:
        cluster = _cluster_field(pair)
        items = item_rows(release, cluster)
        by_job = {m.latest_job_id: m for m in LanguageModel.objects.on_release(release)}  # type: ignore[attr-defined]
        # Every ranked model's verdicts in one query, not one a model, streamed a job at a
        # time: 200 full NaVAB runs hold 25M rows of both methods.
        rows = (
            SampleResult.objects.filter(
                job_id__in=list(by_job),
                method__in=[pair.a.key, pair.b.key],
                correct__isnull=False,
            )
            .order_by("job_id")
            .values_list("job_id", "item_id", "method", "correct", "value")
            .iterator(chunk_size=10_000)
        )
        found = []
        for job_id, job_rows in groupby(rows, key=itemgetter(0)):
            agreement = _model_agreement(
                by_job[job_id], job_id, job_rows, pair, benchmark, items, cluster is not None
            )
            if agreement is not None:
                found.append(agreement)
        found.sort(key=lambda m: (-len(m.flagged), -abs(m.overall.diff), m.model.pk))
        return found

    return cached_value(f"agreement:{release.pk}:{pair.key}", build)
