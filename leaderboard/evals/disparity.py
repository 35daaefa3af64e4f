"""A job's disparity per slice dimension and method, computed once from its stored per-item
results (`evaluation.benchmarks.disparity` does the statistics) and kept in `JobDisparity`.

`store_results` computes it when a job's results are published; jobs finished before this
existed get theirs on first read (`for_jobs`), once, so pages never resample per request.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from evaluation.benchmarks.contract import BenchmarkDefinition, Method, Metric
from evaluation.benchmarks.disparity import Disparity, disparities, item_metric_value
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import sample_details
from leaderboard.evals.models import (
    EvaluationJob,
    JobDisparity,
    JobStatus,
    LanguageModel,
    SampleResult,
    Score,
)
from leaderboard.evals.score_table import scored_methods
from leaderboard.evals.slices import declaration

logger = logging.getLogger(__name__)


def cluster_path(benchmark: BenchmarkDefinition, metric: Metric) -> str | None:
    """Where an item's cluster label of METRIC is stored, as a SampleResult lookup (None:
    each item is its own)."""
    field = metric.cluster_field
    if not field:
        return None
    if field == "uid":
        return "item__uid"
    slice_fields = {d.field: d.key for d in benchmark.slices}
    if field in slice_fields:
        return f"item__slices__{slice_fields[field]}"
    return f"item__data__{field}"


def _records(
    job: EvaluationJob, benchmark: BenchmarkDefinition, method: Method
) -> tuple[list[tuple[float, Mapping[str, str], str]], int]:
    """(primary value, slice values, cluster) per item of the method, and how many items hold
    no value of the primary metric. One query (only the few JSON keys needed are read), and
    the outcomes from the job's details file where the primary metric needs them."""
    needs_outcome = method.primary != method.value_metric.key
    outcomes = sample_details.outcomes(job.pk, method.key) if needs_outcome else {}
    cluster = cluster_path(benchmark, method.primary_metric)
    columns = ["value", "item__slices", "item__uid", "item_id"]
    columns += [cluster] if cluster else []
    records: list[tuple[float, Mapping[str, str], str]] = []
    missing = 0
    for row in SampleResult.objects.filter(job=job, method=method.key).values_list(*columns):
        value, slices, uid = row[0], row[1], row[2]
        outcome = outcomes.get(row[3])
        primary = item_metric_value(
            method, method.primary, value, {"outcome": outcome} if needs_outcome else None
        )
        if primary is None:
            missing += 1
            continue
        label = str(row[-1]) if cluster else uid
        records.append((primary, {k: str(v) for k, v in (slices or {}).items()}, label))
    return records, missing


def compute(job: EvaluationJob, seed: int | None = None) -> list[JobDisparity]:
    """The job's disparities from its stored per-item results, replacing any stored ones,
    resampled with the run's seed (its card's)."""
    benchmark = declaration(job.release)
    if seed is None:
        seed = int(job.repro_card.get("seed") or settings.EVAL_SEED)
    rows = []
    # A method the run has no scores for (its card says why: PAA without verdicts) has no
    # disparity either, though its per-item records are kept: a gap between slices of a
    # method without a score would read as a measurement (every slice 0%, "0.0 pts").
    scored = scored_methods([job])
    for method in benchmark.methods:
        if (job.pk, method.key) not in scored:
            continue
        records, missing = _records(job, benchmark, method)
        for found in disparities(method, benchmark.slices, records, seed):
            if missing:
                # Not computed on part of the items, and said so rather than hidden.
                reason = (
                    f"{missing} of {missing + len(records)} items hold no per-item value of "
                    f"{method.primary_metric.label}"
                )
                found = dataclasses.replace(
                    found, value=None, ci_low=None, ci_high=None, best=None, worst=None,
                    lowest=[], reason=reason, n=missing + len(records),
                )  # fmt: skip
            rows.append(
                JobDisparity(
                    job=job,
                    method=method.key,
                    dimension=found.dimension,
                    metric=found.metric,
                    value=found.value,
                    ci_low=found.ci_low,
                    ci_high=found.ci_high,
                    detail=found.to_dict(),
                )
            )
    JobDisparity.objects.filter(job=job).delete()
    return JobDisparity.objects.bulk_create(rows, ignore_conflicts=True)


@dataclass
class KeptDisparity:
    """A job's disparity on one method and dimension as stored: its value and items read from
    their columns (what a board sorts and filters by), its detail decoded when first read. A
    board of 1,000 models shows a hundred of them: decoding every detail (a kilobyte of JSON
    each) was half of building it."""

    method: str
    dimension: str
    value: float | None
    n: int
    #: the stored detail: JSON text as read, or the dict (`Disparity.to_dict`) just computed
    detail: str | dict[str, Any]

    @cached_property
    def found(self) -> Disparity:
        detail = json.loads(self.detail) if isinstance(self.detail, str) else self.detail
        return Disparity.from_dict(detail)

    @classmethod
    def of(cls, found: Disparity) -> KeptDisparity:
        return cls(found.method, found.dimension, found.value, found.n, found.to_dict())


def for_jobs(
    jobs: Iterable[EvaluationJob], method: str = "", dimension: str = ""
) -> dict[int, list[Disparity]]:
    """`kept_for_jobs`, decoded."""
    kept = kept_for_jobs(jobs, method, dimension)
    return {job_id: [row.found for row in rows] for job_id, rows in kept.items()}


def kept_for_jobs(
    jobs: Iterable[EvaluationJob], method: str = "", dimension: str = ""
) -> dict[int, list[KeptDisparity]]:
    """job id -> its disparities in declared order (methods, then dimensions), or only those of
    METHOD on DIMENSION where named; one query for the stored ones (only the named rows'
    details are read: a board of 1,000 models needs one of each job's dozens), a computation
    for each job that has none yet. Rows stored for a method the job has no score for (before
    that was checked) are left out."""
    jobs = list(jobs)
    not_run = {(job.pk, key) for job in jobs for key in job.repro_card.get("not_run") or {}}
    scored = Score.objects.filter(job=OuterRef("job_id"), method=OuterRef("method"))
    ids = [job.pk for job in jobs]
    rows = JobDisparity.objects.filter(Exists(scored), job_id__any=ids).order_by()
    if method or dimension:
        rows = rows.filter(method=method, dimension=dimension)
    computed: set[int] = set()
    stored: dict[int, list[KeptDisparity]] = {job.pk: [] for job in jobs}
    # The details are read as JSON text, decoded only where read (`KeptDisparity.found`).
    read = rows.annotate(
        detail_text=Cast("detail", TextField()), items=KeyTextTransform("n", "detail")
    )
    fields = ("job_id", "method", "dimension", "value", "items", "detail_text")
    for job_id, key, dim, value, items, text in read.values_list(*fields):
        computed.add(job_id)
        if (job_id, key) not in not_run:
            stored[job_id].append(KeptDisparity(key, dim, value, _count(items), text))
    if method or dimension:
        # Which of the jobs without the named row have any rows at all, not computed again
        # (looked up for them alone: a job's named row says it has some, and 4,500 rows of
        # 750 jobs were read to learn it).
        unnamed = [job_id for job_id in ids if job_id not in computed]
        computed |= set(
            JobDisparity.objects.filter(job_id__any=unnamed).values_list("job_id", flat=True)
        )
    out: dict[int, list[KeptDisparity]] = {}
    for job in jobs:
        benchmark = declaration(job.release)
        if job.pk not in computed and benchmark.slices and job.status == JobStatus.FINISHED:
            stored[job.pk] = [
                KeptDisparity(row.method, row.dimension, row.value, _count(row.detail.get("n")),
                              row.detail)
                for row in compute(job)
                if not (method or dimension) or (row.method, row.dimension) == (method, dimension)
            ]  # fmt: skip
        out[job.pk] = _ordered(benchmark, stored[job.pk])
    return out


def _count(items: object) -> int:
    """A stored detail's items (`n`), as its JSON gave it (text read from the database)."""
    try:
        return int(float(str(items)))
    except (ValueError, OverflowError):
        return 0


def _ordered(benchmark: BenchmarkDefinition, rows: list[KeptDisparity]) -> list[KeptDisparity]:
    methods = [m.key for m in benchmark.methods]
    dims = [d.key for d in benchmark.slices]

    def key(row: KeptDisparity) -> tuple[int, int]:
        return (methods.index(row.method), dims.index(row.dimension))

    known = [row for row in rows if row.method in methods and row.dimension in dims]
    return sorted(known, key=key)


def as_api(found: Disparity, benchmark: BenchmarkDefinition) -> dict[str, Any]:
    """A disparity for the API: the stored fields plus the slices' labels."""
    dimension = benchmark.slice_dimension(found.dimension)
    data = found.to_dict()
    for gap in [data["best"], data["worst"], *data["lowest"]]:
        if gap:
            gap["label"] = dimension.label_of(gap["value"])
    return data


def safely_compute(job: EvaluationJob, seed: int) -> None:
    """Compute at publish time, inside its transaction: a failure here must not lose the
    job's results (a savepoint keeps the transaction usable), and the page computes it on
    first read instead (logged, not hidden)."""
    try:
        with transaction.atomic():
            compute(job, seed)
    except Exception:
        logger.exception("disparity of job %s not computed; it will be on first read", job.pk)


def latest_for_model(model: LanguageModel) -> list[dict[str, Any]]:
    """The model's disparities on each benchmark's current published release, from its latest
    finished evaluation there (a full-release one before a held-out one), for the API."""
    out = []
    for release in DatasetRelease.objects.published().select_related("benchmark"):
        if release.pk != _current_pk(release):
            continue
        job = model.jobs.filter(release=release).latest_finished()
        if job is None:
            continue
        benchmark = declaration(release)
        out.append(
            {
                "benchmark": benchmark.slug,
                "release": release.version,
                "job": job.pk,
                "disparities": [
                    as_api(found, benchmark) for found in for_jobs([job])[job.pk] if found.n
                ],
                # The methods the run left out, which have no score and so no disparity.
                "no_scores": [
                    {"method": str(key), "reason": str(reason)}
                    for key, reason in (job.repro_card.get("not_run") or {}).items()
                ],
            }
        )
    return out


def _current_pk(release: DatasetRelease) -> int | None:
    current = DatasetRelease.objects.published().filter(benchmark=release.benchmark_id).current()
    return current.pk if current else None
