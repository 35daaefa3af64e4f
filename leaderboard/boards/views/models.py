"""A model's page: its scores with uncertainty, job history and the per-example viewer."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel, Method, SampleResult

SAMPLES_PER_PAGE = 25


def latest_finished(model: LanguageModel, release: DatasetRelease | None) -> EvaluationJob | None:
    jobs = model.jobs.filter(status=JobStatus.FINISHED)
    if release is not None:
        jobs = jobs.filter(release=release)
    return jobs.select_related("release").order_by("-finished_at", "-id").first()


def filtered_samples(job: EvaluationJob, params: Any) -> QuerySet[SampleResult]:
    samples = job.samples.select_related("triple", "triple__nation", "triple__mode").order_by(
        "triple__nation__sort_order", "triple__mode__sort_order", "triple__uid", "method"
    )
    if params.get("wrong") == "1":
        samples = samples.filter(correct=False)
    if params.get("nation"):
        samples = samples.filter(triple__nation__code=params["nation"])
    if params.get("mode"):
        samples = samples.filter(triple__mode__code=params["mode"])
    if params.get("method") in Method.values:
        samples = samples.filter(method=params["method"])
    if params.get("topic"):
        samples = samples.filter(triple__topic__iexact=params["topic"])
    return samples


def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(
        LanguageModel.objects.select_related("base_model", "submitter"), pk=pk
    )
    version = request.GET.get("release")
    release = (
        DatasetRelease.objects.published().filter(version=version).first()
        if version
        else DatasetRelease.objects.current()
    )
    job = latest_finished(model, release)
    scores = list(job.scores.select_related("nation", "mode")) if job else []
    page = None
    topics: list[str] = []
    if job is not None:
        samples = filtered_samples(job, request.GET)
        page = Paginator(samples, SAMPLES_PER_PAGE).get_page(request.GET.get("page"))
        topics = sorted(
            set(job.release.triples.exclude(topic="").values_list("topic", flat=True).distinct())
        )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "model": model,
        "release": release,
        "job": job,
        "scores": scores,
        "jobs": model.jobs.select_related("release").order_by("-created_at")[:50],
        "derived": model.derived_models.all(),
        "page": page,
        "nations": Nation.objects.all(),
        "modes": Mode.objects.all(),
        "methods": Method.choices,
        "topics": topics,
        "filters": request.GET,
        "page_query": params.urlencode(),
    }
    return render(request, "boards/model_detail.html", context)
