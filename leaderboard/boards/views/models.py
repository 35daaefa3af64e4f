"""A model's page: one section per benchmark it has results on (scores with uncertainty and
the run's card), its job history, and a paged per-example viewer for one benchmark at a time.
Everything benchmark-shaped (rows, columns, formats, filters, fields) comes from the
declaration."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import SafeString

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from evaluation.benchmarks.contract import (
    BenchmarkDefinition,
    ItemField,
    Method,
    Metric,
    MetricKind,
)
from leaderboard.boards import charts, figures
from leaderboard.boards.alignment_effect import (
    alignment_effect,
    derived_effects,
    reported_side_by_side,
)
from leaderboard.boards.cache import cached_value
from leaderboard.boards.disparity import MethodDisparities, model_disparities
from leaderboard.boards.model_reported import model_reported
from leaderboard.boards.params import page_base
from leaderboard.boards.population import Population, applies, population, scores_by_slice
from leaderboard.boards.responses import cached_response
from leaderboard.catalog.counts import slice_values
from leaderboard.catalog.facets import facet_values, field_filters
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import sample_details
from leaderboard.evals.card import JobCard
from leaderboard.evals.models import (
    EvaluationJob,
    JobStatus,
    LanguageModel,
    ModelType,
    SampleResult,
    Score,
)
from leaderboard.evals.permissions import can_manage_model
from leaderboard.evals.publisher_run import card_report
from leaderboard.evals.score_table import ShownPart, shown_parts

SAMPLES_PER_PAGE = 25
MAX_FIELD_VALUES = 200  # suggestions offered for a field filter


@dataclass(frozen=True)
class GridColumn:
    """Scores of one method's metric in one cut of the dimensions that are not rows."""

    slices: tuple[tuple[str, str], ...]
    method: Method
    metric: Metric
    label: str
    sublabel: str


@dataclass(frozen=True)
class GridCell:
    score: Score
    kind: MetricKind
    #: the method's declared sub-metrics, by key (stored parts have no reliable order)
    parts: list[ShownPart]
    #: what one cluster of the metric's interval is ("user": one user's slice has none)
    cluster_noun: str


@dataclass
class ScoreGrid:
    """Scores laid out rows x columns; a missing cell is None. Rows are the values of the
    averaged dimension (NaVAB: nations), else each scored slice (the overall first)."""

    row_label: str
    columns: list[GridColumn]
    rows: list[tuple[str, list[GridCell | None]]]


def _slice_label(benchmark: BenchmarkDefinition, slices: dict[str, str]) -> str:
    return " · ".join(
        f"{d.label}: {d.label_of(slices[d.key])}" for d in benchmark.slices if d.key in slices
    )


def score_grid(benchmark: BenchmarkDefinition, scores: list[Score]) -> ScoreGrid:
    averaged = benchmark.averaged_dimension
    dims = [d.key for d in benchmark.slices]
    by_cell: dict[tuple[tuple[tuple[str, str], ...], tuple[Any, ...]], Score] = {}
    row_keys: set[tuple[tuple[str, str], ...]] = set()
    column_keys: dict[tuple[Any, ...], GridColumn] = {}
    for score in scores:
        try:
            method = benchmark.method(score.method)
            metric = method.metric(score.metric)
        except KeyError:
            continue  # a method or metric the declaration no longer has
        ordered = sorted(score.slices.items(), key=lambda kv: dims.index(kv[0]))
        if averaged is not None:
            row = tuple(kv for kv in ordered if kv[0] == averaged.key)
            rest = tuple(kv for kv in ordered if kv[0] != averaged.key)
        else:
            row, rest = tuple(ordered), ()
        if averaged is not None and not row:
            continue  # a pooled score over the averaged dimension: the board's mean shows it
        column = (rest, method.key, metric.key)
        row_keys.add(row)
        by_cell[(row, column)] = score
        if column not in column_keys:
            cut = " · ".join(benchmark.slice_dimension(k).label_of(v) for k, v in rest)
            metric_label = metric.label if len(method.metrics) > 1 else ""
            if cut:
                label, sublabel = cut, " · ".join(filter(None, [method.label, metric_label]))
            else:
                label, sublabel = method.label, metric_label
            column_keys[column] = GridColumn(rest, method, metric, label, sublabel)
    method_order = [m.key for m in benchmark.methods]

    def column_order(key: tuple[Any, ...]) -> tuple[Any, ...]:
        rest, method_key, metric_key = key
        cut = tuple(benchmark.slice_dimension(k).sort_key(v) for k, v in rest)
        metrics = [m.key for m in benchmark.method(method_key).metrics]
        return (cut, method_order.index(method_key), metrics.index(metric_key))

    def row_order(key: tuple[tuple[str, str], ...]) -> tuple[Any, ...]:
        return (
            len(key),
            tuple((dims.index(k), benchmark.slice_dimension(k).sort_key(v)) for k, v in key),
        )

    ordered_columns = sorted(column_keys, key=column_order)
    rows = []
    for row in sorted(row_keys, key=row_order):
        if averaged is not None:
            label = averaged.label_of(row[0][1])
        else:
            label = _slice_label(benchmark, dict(row)) or "Overall"
        cells = [
            _grid_cell(by_cell[(row, c)], column_keys[c]) if (row, c) in by_cell else None
            for c in ordered_columns
        ]
        rows.append((label, cells))
    return ScoreGrid(
        row_label=averaged.label if averaged else "Slice",
        columns=[column_keys[c] for c in ordered_columns],
        rows=rows,
    )


def _grid_cell(score: Score, column: GridColumn) -> GridCell:
    return GridCell(
        score,
        column.metric.kind,
        shown_parts(column.method.submetrics, score.parts or {}),
        column.metric.cluster_noun,
    )


def radar_script(
    benchmark: BenchmarkDefinition, grid: ScoreGrid, element_id: str
) -> SafeString | None:
    """The averaged dimension's values around a circle, one trace per bounded column."""
    bounded = [
        i
        for i, c in enumerate(grid.columns)
        if c.metric.lower is not None and c.metric.upper is not None
    ]
    if benchmark.averaged_dimension is None or not bounded or len(grid.rows) < 3:
        return None
    series: dict[str, list[float | None]] = {}
    for i in bounded:
        column = grid.columns[i]
        cells = [cells[i] for _, cells in grid.rows]
        label = f"{column.label} · {column.sublabel}" if column.sublabel else column.label
        series[label] = [c.score.value if c is not None else None for c in cells]
    names = [label for label, _ in grid.rows]
    title = f"{grid.columns[bounded[0]].metric.label} by {grid.row_label.lower()}"
    return figures.as_script(charts.radar(names, series, title), element_id)


def filtered_samples(
    job: EvaluationJob, benchmark: BenchmarkDefinition, params: QueryDict
) -> QuerySet[SampleResult]:
    """The job's per-item results, filtered by the declared slices, methods and short fields."""
    samples = job.samples.select_related("item__release__benchmark").order_by("item_id", "method")
    if params.get("wrong") == "1":
        samples = samples.filter(correct=False)
    for dimension in benchmark.slices:
        if value := params.get(dimension.key):
            # One join per dimension: the item must hold each chosen value (indexed lookups).
            samples = samples.filter(
                item__slice_values__dimension=dimension.key, item__slice_values__value=value
            )
    if params.get("method") in [m.key for m in benchmark.methods]:
        samples = samples.filter(method=params["method"])
    for field in field_filters([benchmark]):
        if value := params.get(field.name):
            samples = samples.filter(**{f"item__data__{field.name}__iexact": value})
    return samples


@dataclass
class Section:
    """One benchmark on the model's page."""

    benchmark: BenchmarkDefinition
    release: DatasetRelease | None
    evaluated_releases: list[DatasetRelease]
    job: EvaluationJob | None
    grid: ScoreGrid
    radar: SafeString | None
    disparities: list[MethodDisparities]
    #: map and radars per slice (benchmarks scored per one-dimension slice, with a result)
    population: Population | None = None

    @property
    def card(self) -> JobCard:
        return self.job.card if self.job else JobCard()


def _section(model: LanguageModel, slug: str, requested: DatasetRelease | None) -> Section:
    benchmark = get_benchmark(slug)
    published = DatasetRelease.objects.published().filter(benchmark__slug=slug)
    release = requested if requested is not None and requested.benchmark.slug == slug else None
    release = release or published.select_related("benchmark").current()
    job = (
        model.jobs.filter(release=release).select_related("release").latest_finished()
        if release is not None
        else None
    )
    scores = list(job.scores.all()) if job else []
    grid = score_grid(benchmark, scores)
    evaluated = list(
        published.filter(jobs__model=model, jobs__status=JobStatus.FINISHED)
        .select_related("benchmark")
        .distinct()
    )
    # The first method the run has scores of (a chat model's or the publisher's run: PAA).
    pictured = next(
        (m for m in benchmark.methods if any(s.method == m.key for s in scores)),
        benchmark.methods[0],
    )
    return Section(
        benchmark,
        release,
        evaluated,
        job,
        grid,
        radar_script(benchmark, grid, f"chart-radar-{slug}"),
        model_disparities(benchmark, job),
        population=(
            # Cached with the boards (plotly takes ~0.1 s to build a map and five radars).
            cached_value(
                f"population|{job.pk}",
                lambda: population(
                    benchmark,
                    scores_by_slice(benchmark, scores, pictured),
                    f"chart-{slug}",
                    model.display_name,
                    pictured,
                ),
            )
            if job is not None and applies(benchmark)
            else None
        ),
    )


@dataclass
class ExampleViewer:
    """The per-item results of one section's job, filtered and paged."""

    section: Section
    page: Page[SampleResult]
    shown_fields: list[ItemField]
    slice_filters: list[dict[str, Any]]
    field_filters: list[dict[str, Any]]

    @property
    def method_labels(self) -> dict[str, str]:
        return {m.key: m.label for m in self.section.benchmark.methods}

    @property
    def terms(self) -> list[str]:
        """The words this page of results uses (methods, parts, outcomes), to explain."""
        methods = {m.key: m for m in self.section.benchmark.methods}
        words: list[str] = []
        for s in self.page.object_list:
            method = methods.get(s.method)
            words += [method.label, s.method] if method else [s.method]
            if method:
                words += [method.part_label(k, v) for k, v in s.parts.items()]
            words.append(s.chosen or "")
        return words


def _viewer(section: Section, params: QueryDict) -> ExampleViewer | None:
    job = section.job
    if job is None:
        return None
    benchmark = section.benchmark
    samples = filtered_samples(job, benchmark, params)
    page = Paginator(samples, SAMPLES_PER_PAGE).get_page(params.get("page"))
    sample_details.attach(page.object_list)  # one read of the job's file for the page shown
    held = slice_values(job.release)
    slice_filters = [
        {
            "key": d.key,
            "label": d.label,
            "options": [(v, d.label_of(v)) for v in held.get(d.key, []) if v not in d.unscored],
        }
        for d in benchmark.slices
    ]
    fields = [
        {
            "key": field.name,
            "label": field.label,
            "values": facet_values(job.release.facets, field.name)[:MAX_FIELD_VALUES],
        }
        for field in field_filters([benchmark])
    ]
    # The item's own text, as the benchmark declares it required (NaVAB: Q, S, RS).
    shown = [f for f in benchmark.content_fields() if f.required and f.kind == "text"]
    return ExampleViewer(section, page, shown, slice_filters, fields)


def jobs_stamp(pk: int) -> str:
    """What of the model's jobs its page shows that the board version does not cover: a job
    submitted, started, failed or retried changes no board, but the page's job history shows
    it. One query, read on every request (the cached page is keyed on it)."""
    states = EvaluationJob.objects.filter(model_id=pk).order_by("id")
    # The job history's columns that change after a job is created (not its progress).
    rows = states.values_list(
        "id", "status", "attempt", "failure_kind", "finished_at", "produced_model_id"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()[:16]


def model_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    # Whole anonymous responses per board version (a job finishing, a model edited) and
    # state of the model's jobs: the sections, map and radars are built once, not per visit.
    return cached_response(
        request, lambda: render_model_detail(request, pk), variant=f"jobs:{jobs_stamp(pk)}"
    )


def render_model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(
        LanguageModel.objects.select_related("base_model", "submitter"), pk=pk
    )
    version = request.GET.get("release")
    requested = (
        DatasetRelease.objects.published()
        .select_related("benchmark")
        .filter(version=version)
        .first()
        if version
        else None
    )
    registered = benchmark_slugs()
    with_results = set(
        model.jobs.evaluations()
        .filter(status=JobStatus.FINISHED, release__status=DatasetRelease.Status.PUBLISHED)
        .values_list("release__benchmark__slug", flat=True)
    )
    if requested is not None:
        with_results.add(requested.benchmark.slug)
    # A model with no results yet still says where it will be ranked: the first benchmark.
    slugs = [slug for slug in registered if slug in with_results] or registered[:1]
    sections = [_section(model, slug, requested) for slug in slugs]
    focus = next(
        (s for s in sections if requested is not None and s.release == requested),
        next((s for s in sections if s.job is not None), sections[0]),
    )
    effect = alignment_effect(model) if model.model_type == ModelType.ALIGNED else None
    reported_sets, reported_pairs = (
        reported_side_by_side(get_benchmark(effect.aligned_job.release.benchmark.slug))
        if effect
        else ([], [])
    )
    context = {
        # A base model's alignments: each aligned model's effect on its held-out items.
        "derived_effects": derived_effects(model),
        "reported": model_reported(model, {s.benchmark.slug: s.job for s in sections}),
        "publisher_report": card_report(focus.job) if focus.job else None,
        "effect": effect,
        "reported_sets": reported_sets,
        "reported_pairs": reported_pairs,
        "effect_chart": (
            figures.as_script(charts.alignment_deltas(effect), "chart-alignment")
            if effect and effect.summary
            else None
        ),
        # The summary (all items, the target, the rest) keeps the table id pages link to.
        "effect_tables": ([("effect", effect.summary), ("cells", effect.rows)] if effect else []),
        # The publisher's run has no weights here to align.
        "can_align": can_manage_model(request.user, model)
        and not model.endpoint_url
        and not model.publisher_run,
        "model": model,
        "sections": sections,
        "viewer": _viewer(focus, request.GET),
        "job": focus.job,
        "jobs": model.jobs.select_related("release", "produced_model").order_by(
            "-created_at", "-id"
        )[:50],
        "derived": model.derived_models.all(),
        "filters": request.GET,
        "page_base": page_base(request.GET),
        "has_charts": any(s.radar or (s.population and not s.population.empty) for s in sections),
    }
    return render(request, "boards/model_detail.html", context)
