"""A model's page: its scores with uncertainty, job history and the per-example viewer."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render

from leaderboard.benchmark.models import DatasetRelease, Mode, Nation
from leaderboard.boards import charts
from leaderboard.boards.alignment_effect import alignment_effect
from leaderboard.boards.params import page_base
from leaderboard.evals.models import (
    EvaluationJob,
    JobStatus,
    LanguageModel,
    Method,
    ModelType,
    SampleResult,
    Score,
)
from leaderboard.evals.permissions import can_manage_model

SAMPLES_PER_PAGE = 25


@dataclass(frozen=True)
class GridColumn:
    mode: Mode
    method: str
    method_label: str


@dataclass
class ScoreGrid:
    """Scores laid out nation x (mode, method); a missing cell is None."""

    columns: list[GridColumn]
    rows: list[tuple[Nation, list[Score | None]]]


def score_grid(scores: list[Score], nations: list[Nation], modes: list[Mode]) -> ScoreGrid:
    by_cell = {
        (s.slices.get("nation"), s.slices.get("mode"), s.method): s
        for s in scores
        if s.metric == "acc"
    }
    labels = dict(Method.choices)
    columns = [
        GridColumn(mode, method, labels[method])
        for mode in modes
        for method in Method.values
        if any((n.code, mode.code, method) in by_cell for n in nations)
    ]
    rows = [
        (nation, [by_cell.get((nation.code, c.mode.code, c.method)) for c in columns])
        for nation in nations
    ]
    return ScoreGrid(columns=columns, rows=rows)


def radar_script(grid: ScoreGrid) -> str | None:
    if not grid.columns:
        return None
    series: dict[str, list[float | None]] = {}
    for i, column in enumerate(grid.columns):
        scores = [cells[i] for _, cells in grid.rows]
        label = f"{column.mode.name} · {column.method.upper()}"
        series[label] = [s.value if s is not None else None for s in scores]
    names = [nation.name for nation, _ in grid.rows]
    return charts.as_script(charts.nation_radar(names, series), "chart-radar")


def latest_finished(model: LanguageModel, release: DatasetRelease | None) -> EvaluationJob | None:
    """The latest full-release evaluation; else the latest held-out one (all an aligned model
    has, and what a base has while only its alignment baseline has run)."""
    jobs = model.jobs.evaluations().filter(status=JobStatus.FINISHED).select_related("release")
    if release is not None:
        jobs = jobs.filter(release=release)
    newest = ("-finished_at", "-id")
    return jobs.filter(exclude_uids=[]).order_by(*newest).first() or jobs.order_by(*newest).first()


def filtered_samples(job: EvaluationJob, params: QueryDict) -> QuerySet[SampleResult]:
    samples = job.samples.select_related("triple__release__benchmark").order_by(
        "triple_id", "method"
    )
    if params.get("wrong") == "1":
        samples = samples.filter(correct=False)
    if params.get("nation"):
        samples = samples.filter(
            triple__slice_values__dimension="nation", triple__slice_values__value=params["nation"]
        )
    if params.get("mode"):
        samples = samples.filter(
            triple__slice_values__dimension="mode", triple__slice_values__value=params["mode"]
        )
    if params.get("method") in Method.values:
        samples = samples.filter(method=params["method"])
    if params.get("topic"):
        samples = samples.filter(triple__data__topic__iexact=params["topic"])
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
    nations = list(Nation.objects.all())
    modes = list(Mode.objects.evaluated())
    scores = list(job.scores.all()) if job else []
    grid = score_grid(scores, nations, modes)
    page = None
    topics: list[str] = []
    if job is not None:
        samples = filtered_samples(job, request.GET)
        page = Paginator(samples, SAMPLES_PER_PAGE).get_page(request.GET.get("page"))
        topics = list(
            job.release.items.exclude(data__topic="")
            .order_by("data__topic")
            .values_list("data__topic", flat=True)
            .distinct()
        )
    evaluated_releases = (
        DatasetRelease.objects.published()
        .filter(jobs__model=model, jobs__status=JobStatus.FINISHED)
        .distinct()
    )
    effect = alignment_effect(model) if model.model_type == ModelType.ALIGNED else None
    context = {
        "effect": effect,
        "effect_chart": (
            charts.as_script(charts.alignment_deltas(effect), "chart-alignment")
            if effect and effect.rows
            else None
        ),
        "can_align": can_manage_model(request.user, model) and not model.endpoint_url,
        "model": model,
        "release": release,
        "evaluated_releases": evaluated_releases,
        "job": job,
        "card": job.repro_card if job else {},
        "grid": grid,
        "radar": radar_script(grid),
        "jobs": model.jobs.select_related("release", "produced_model").order_by(
            "-created_at", "-id"
        )[:50],
        "derived": model.derived_models.all(),
        "page": page,
        "nations": nations,
        "modes": modes,
        "methods": Method.choices,
        "topics": topics,
        "filters": request.GET,
        "page_base": page_base(request.GET),
    }
    return render(request, "boards/model_detail.html", context)
