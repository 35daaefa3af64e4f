"""A model's reported results on its own page: each figure its benchmark's publisher reported
for the model (`ReportedResult.site_model` is this model), beside the site's score of the same
method, metric and slice from the run the page shows, with the difference only where both
counted the same items: the reported n equals the site's n, or, where the publisher gives no
n, the row is marked as scored on the items the site's boards rank on. Never an average or any
other figure across benchmarks: each row stays with its benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import MetricKind
from leaderboard.boards.models import ReportedResult
from leaderboard.boards.reported import result_dict
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import EvaluationJob, LanguageModel, Score


@dataclass(frozen=True)
class ReportedMetric:
    key: str
    label: str
    kind: MetricKind
    reported: float
    spread: float | None
    site: Score | None
    #: site minus reported, where both counted the same items
    difference: float | None


@dataclass(frozen=True)
class ModelReportedRow:
    result: ReportedResult
    benchmark_name: str
    job: EvaluationJob | None
    metrics: list[ReportedMetric]
    #: why no difference is computed ("" where it is)
    not_compared: str

    def as_dict(self) -> dict[str, Any]:
        return {
            **result_dict(self.result),
            "benchmark": self.result.benchmark.slug,
            "site_job_id": self.job.pk if self.job else None,
            "not_compared": self.not_compared,
            "metrics": [
                {
                    "metric": m.key,
                    "reported": m.reported,
                    "spread": m.spread,
                    "site_value": m.site.value if m.site else None,
                    "site_ci": [m.site.ci_low, m.site.ci_high] if m.site else None,
                    "site_n": m.site.n if m.site else None,
                    "difference": m.difference,
                }
                for m in self.metrics
            ],
        }


def _reason(result: ReportedResult, job: EvaluationJob | None, site_n: int | None) -> str:
    if job is None:
        return "the site has no finished run of this model on this benchmark"
    if site_n is None:
        return "the site's run has no score of this method on this slice"
    if result.n is not None and result.n != site_n:
        return (
            f"not the same items: the publisher counted {result.n:,}, "
            f"the site's run {site_n:,} ({result.release_name})"
        )
    if result.n is None and not result.comparable:
        return f"not the same items ({result.release_name}): no difference is computed"
    return ""


def model_reported(
    model: LanguageModel, jobs: Mapping[str, EvaluationJob | None]
) -> list[ModelReportedRow]:
    """MODEL's reported results, each beside the site's scores from JOBS (benchmark slug ->
    the run the model's page shows)."""
    rows = []
    results = ReportedResult.objects.filter(site_model=model).select_related("benchmark")
    for result in results.order_by("benchmark__slug", "method", "release_name", "id"):
        benchmark = get_benchmark(result.benchmark.slug)
        try:
            method = benchmark.method(result.method)
        except KeyError:
            continue  # a method the declaration no longer has
        job = jobs.get(result.benchmark.slug)
        scores = (
            {
                s.metric: s
                for s in job.scores.filter(method=result.method, slice_key=result.slice_key)
            }
            if job is not None
            else {}
        )
        primary = scores.get(method.primary) or next(iter(scores.values()), None)
        reason = _reason(result, job, primary.n if primary else None)
        metrics = []
        for metric in method.metrics:
            if metric.key not in result.values:
                continue
            value = float(result.values[metric.key])
            site = scores.get(metric.key)
            metrics.append(
                ReportedMetric(
                    key=metric.key,
                    label=metric.label,
                    kind=metric.kind,
                    reported=value,
                    spread=result.spreads.get(metric.key),
                    site=site,
                    difference=site.value - value if site is not None and not reason else None,
                )
            )
        rows.append(ModelReportedRow(result, benchmark.name, job, metrics, reason))
    return rows


def current_jobs(model: LanguageModel, slugs: Iterable[str]) -> dict[str, EvaluationJob | None]:
    """The run a model's page shows by default on each benchmark of SLUGS: its latest finished
    evaluation on the benchmark's current published release."""
    jobs: dict[str, EvaluationJob | None] = {}
    for slug in slugs:
        release = DatasetRelease.objects.published().filter(benchmark__slug=slug).current()
        jobs[slug] = (
            model.jobs.filter(release=release).latest_finished() if release is not None else None
        )
    return jobs
