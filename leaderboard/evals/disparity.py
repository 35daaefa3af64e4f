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
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, TextField
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


#: a stored disparity as read: its method, dimension and detail (`Disparity.to_dict()`)
StoredDisparity = tuple[str, str, dict[str, Any]]


def for_jobs(
    jobs: Iterable[EvaluationJob], method: str = "", dimension: str = ""
) -> dict[int, list[Disparity]]:
    """job id -> its disparities in declared order (methods, then dimensions), or only those of
    METHOD on DIMENSION where named; one query for the stored ones (only the named rows'
    details are read: a board of 1,000 models needs one of each job's dozens), a computation
    for each job that has none yet. Rows stored for a method the job has no score for (before
    that was checked) are left out."""
    jobs = list(jobs)
    not_run = {(job.pk, key) for job in jobs for key in job.repro_card.get("not_run") or {}}
    scored = Score.objects.filter(job=OuterRef("job_id"), method=OuterRef("method"))
    ids = [job.pk for job in jobs]
    rows = JobDisparity.objects.filter(Exists(scored), job_id__any=ids)
    if method or dimension:
        rows = rows.filter(method=method, dimension=dimension)
    computed: set[int] = set()
    # The details are read as JSON text and decoded in one pass over all of them: decoded row
    # by row into instances, they were most of a 1,000-model disparity board's reading.
    kept: list[tuple[int, str, str]] = []
    texts: list[str] = []
    read = rows.annotate(detail_text=Cast("detail", TextField()))
    for job_id, key, dim, text in read.values_list("job_id", "method", "dimension", "detail_text"):
        computed.add(job_id)
        if (job_id, key) not in not_run:
            kept.append((job_id, key, dim))
            texts.append(text)
    if method or dimension:
        # Which of the jobs without the named row have any rows at all, not computed again
        # (looked up for them alone: a job's named row says it has some, and 4,500 rows of
        # 750 jobs were read to learn it).
        unnamed = [job_id for job_id in ids if job_id not in computed]
        computed |= set(
            JobDisparity.objects.filter(job_id__any=unnamed).values_list("job_id", flat=True)
        )
    stored: dict[int, list[StoredDisparity]] = {job.pk: [] for job in jobs}
    details = json.loads("[" + ",".join(texts) + "]")
    for (job_id, key, dim), detail in zip(kept, details, strict=True):
        stored[job_id].append((key, dim, detail))
    out: dict[int, list[Disparity]] = {}
    for job in jobs:
        benchmark = declaration(job.release)
        if job.pk not in computed and benchmark.slices and job.status == JobStatus.FINISHED:
            stored[job.pk] = [
                (row.method, row.dimension, row.detail)
                for row in compute(job)
                if not (method or dimension) or (row.method, row.dimension) == (method, dimension)
            ]
        out[job.pk] = _ordered(benchmark, stored[job.pk])
    return out


def _ordered(benchmark: BenchmarkDefinition, rows: list[StoredDisparity]) -> list[Disparity]:
    methods = [m.key for m in benchmark.methods]
    dims = [d.key for d in benchmark.slices]

    def key(row: StoredDisparity) -> tuple[int, int]:
        known = row[0] in methods and row[1] in dims
        return (methods.index(row[0]), dims.index(row[1])) if known else (99, 99)

    return [
        Disparity.from_dict(detail)
        for method, dimension, detail in sorted(rows, key=key)
        if method in methods and dimension in dims
    ]


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
