"""A job's method agreement on each declared pair of methods scoring the same items (NaVAB MC
and AJ; DiverValue-Bench OPA and PAA), computed once from its stored per-item verdicts
(`evaluation.benchmarks.agreement` does the statistics) and kept in `JobAgreement`.

`store_results` computes it when a job's results are published; jobs finished before this
existed get theirs on first read (`for_jobs`), once, so the agreement page never resamples a
model's items per board version (a NaVAB run's 63,400 items took ~350 ms a model).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from evaluation.benchmarks.agreement import Agreement, method_agreement
from evaluation.benchmarks.contract import BenchmarkDefinition, Method, SliceDimension
from evaluation.stats import cell_seed
from leaderboard.binary_rows import fetch_rows
from leaderboard.catalog.models import DatasetRelease, Item
from leaderboard.evals.models import EvaluationJob, JobAgreement, JobStatus, SampleResult
from leaderboard.evals.slices import declaration

logger = logging.getLogger(__name__)

#: disagreeing items kept per job and pair, the most confident first
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

    @property
    def cluster_field(self) -> str | None:
        """Items cluster (users) where either side's primary metric resamples clusters."""
        for method in (self.a, self.b):
            if method.primary_metric.cluster_field:
                return method.primary_metric.cluster_field
        return None


def method_pairs(benchmark: BenchmarkDefinition) -> list[MethodPair]:
    return [MethodPair(benchmark.method(a), benchmark.method(b)) for a, b in benchmark.method_pairs]


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
class PairAgreement:
    """One job's agreement on one pair: overall, per slice, and the items it disagrees on."""

    overall: Agreement
    slices: list[SliceAgreement]
    items: list[Disagreement]

    @property
    def flagged(self) -> list[SliceAgreement]:
        return [s for s in self.slices if not s.too_few and s.agreement.disagrees]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "slices": [
                {"dimension": s.dimension.key, "value": s.value, "agreement": s.agreement.to_dict()}
                for s in self.slices
            ],
            "items": [
                {
                    "uid": d.uid,
                    "verdict_a": d.verdict_a,
                    "verdict_b": d.verdict_b,
                    "value_a": d.value_a,
                }
                for d in self.items
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], benchmark: BenchmarkDefinition) -> PairAgreement:
        """As stored; slices of a dimension the benchmark no longer declares are left out."""
        dimensions = {d.key: d for d in benchmark.slices}
        return cls(
            Agreement.from_dict(data["overall"]),
            [
                SliceAgreement(
                    dimensions[s["dimension"]], s["value"], Agreement.from_dict(s["agreement"])
                )
                for s in data["slices"]
                if s["dimension"] in dimensions
            ],
            [Disagreement(**d) for d in data["items"]],
        )


def item_rows(release: DatasetRelease, cluster: str | None) -> dict[int, ItemRow]:
    """Each item's uid, slices and cluster label, by primary key (one query)."""
    fields = ["pk", "uid", "slices"] + ([f"data__{cluster}"] if cluster else [])
    return {
        row[0]: (row[1], row[2] or {}, str(row[3]) if cluster else "")
        for row in Item.objects.filter(release=release).values_list(*fields)
    }


def _pair_agreement(
    job_id: int,
    paired: list[Paired],
    pair: MethodPair,
    benchmark: BenchmarkDefinition,
    items: dict[int, ItemRow],
) -> PairAgreement:
    """The agreement of one job's PAIRED verdicts (in item order), each cell resampled with
    its own seed."""
    clustered = pair.cluster_field is not None

    def measure(chosen: list[Paired], *labels: str) -> Agreement | None:
        return method_agreement(
            [a[0] for _, a, _ in chosen],
            [b[0] for _, _, b in chosen],
            cell_seed(job_id, pair.key, *labels),
            [items[i][2] for i, _, _ in chosen] if clustered else None,
        )

    overall = measure(paired)
    assert overall is not None
    slices = []
    for dimension in benchmark.slices:
        by_value: dict[str, list[Paired]] = defaultdict(list)
        for row in paired:
            raw = items[row[0]][1].get(dimension.key)
            if raw is not None and str(raw) not in dimension.unscored:
                by_value[str(raw)].append(row)
        for cell in sorted(by_value, key=dimension.sort_key):
            agreement = measure(by_value[cell], dimension.key, cell)
            if agreement is not None:
                slices.append(SliceAgreement(dimension, cell, agreement))
    # Most confident first: the log-likelihood side's value furthest from its decision.
    disagreeing = sorted(
        (row for row in paired if row[1][0] != row[2][0]),
        key=lambda row: (-abs(row[1][1]), items[row[0]][0]),
    )
    return PairAgreement(
        overall,
        slices,
        [Disagreement(items[i][0], a[0], b[0], a[1]) for i, a, b in disagreeing[:MAX_ITEMS]],
    )


def compute(job: EvaluationJob) -> list[JobAgreement]:
    """The job's agreement on every declared pair from its stored verdicts, replacing any
    stored: one row a pair, empty where no item has a verdict of both methods (so that a job
    with one method is not read again on every page). One query for the verdicts of every
    paired method, one for the items' uid, slices and cluster where a pair needs them."""
    benchmark = declaration(job.release)
    pairs = method_pairs(benchmark)
    methods = {key for pair in pairs for key in (pair.a.key, pair.b.key)}
    verdicts: dict[int, dict[str, tuple[bool, float]]] = defaultdict(dict)
    found = SampleResult.objects.filter(job=job, method__in=methods, correct__isnull=False)
    for item_id, method, correct, value in found.values_list(
        "item_id", "method", "correct", "value"
    ):
        verdicts[item_id][method] = (bool(correct), float(value))
    items_by_cluster: dict[str | None, dict[int, ItemRow]] = {}
    rows = []
    for pair in pairs:
        both = [v for v in sorted(verdicts.items()) if pair.a.key in v[1] and pair.b.key in v[1]]
        detail: dict[str, Any] = {}
        if both:
            cluster = pair.cluster_field
            if cluster not in items_by_cluster:
                items_by_cluster[cluster] = item_rows(job.release, cluster)
            items = items_by_cluster[cluster]
            paired = [(i, v[pair.a.key], v[pair.b.key]) for i, v in both if i in items]
            if paired:
                detail = _pair_agreement(job.pk, paired, pair, benchmark, items).to_dict()
        rows.append(JobAgreement(job=job, pair=pair.key, detail=detail))
    JobAgreement.objects.filter(job=job).delete()
    return JobAgreement.objects.bulk_create(rows)


def for_jobs(
    job_ids: Iterable[int], pair: MethodPair, benchmark: BenchmarkDefinition
) -> dict[int, PairAgreement]:
    """job id -> its agreement on PAIR, for the jobs with items scored by both methods: one
    query for the stored ones, a computation for each finished job that has none yet."""
    job_ids = list(job_ids)
    # The details read as JSON text and decoded in one pass (decoded row by row, a thousand
    # jobs' were a fifth of the agreement page).
    read = JobAgreement.objects.filter(job_id__any=set(job_ids), pair=pair.key).order_by()
    rows = fetch_rows(
        read.annotate(detail_text=Cast("detail", TextField())).values_list("job_id", "detail_text")
    )
    details = json.loads("[" + ",".join(text for _, text in rows) + "]")
    stored: dict[int, Any] = {
        job_id: detail for (job_id, _), detail in zip(rows, details, strict=True)
    }
    missing = [pk for pk in job_ids if pk not in stored]
    if missing:
        jobs = EvaluationJob.objects.filter(pk__in=missing, status=JobStatus.FINISHED)
        for job in jobs.select_related("release__benchmark"):
            for row in compute(job):
                if row.pair == pair.key:
                    stored[job.pk] = row.detail
    return {
        job_id: PairAgreement.from_dict(detail, benchmark)
        for job_id, detail in stored.items()
        if detail
    }


def safely_compute(job: EvaluationJob) -> None:
    """Compute at publish time, inside its transaction: a failure here must not lose the
    job's results (a savepoint keeps the transaction usable), and the page computes it on
    first read instead (logged, not hidden)."""
    try:
        with transaction.atomic():
            compute(job)
    except Exception:
        logger.exception("agreement of job %s not computed; it will be on first read", job.pk)
