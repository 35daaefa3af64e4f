"""A benchmark's world map: the mean over its ranked models per place, linked from its board.
Only benchmarks that declare a dimension of places have one (DiverValue-Bench's birth
country/region)."""

from __future__ import annotations

from dataclasses import replace

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from evaluation.benchmarks import get_benchmark
from evaluation.results import MEASURE_FIELDS, Measure
from leaderboard.boards.cache import cached_board, cached_value
from leaderboard.boards.params import parse_board_query
from leaderboard.boards.population import Population, population
from leaderboard.boards.queries import OVERALL
from leaderboard.boards.responses import cached_response
from leaderboard.catalog.visibility import is_staff
from leaderboard.evals.models import Score


def world_map(request: HttpRequest, benchmark: str) -> HttpResponseBase:
    # The map shows only what the board version covers: whole anonymous responses are kept.
    return cached_response(request, lambda: render_world_map(request, benchmark))


def render_world_map(request: HttpRequest, benchmark: str) -> HttpResponse:
    declared = get_benchmark(benchmark)
    if declared.map_dimension is None:
        raise Http404(f"{declared.name} has no dimension of places to map")
    query = parse_board_query(request.GET, staff=is_staff(request.user), benchmark=benchmark)
    # The models ranked on the overall board of the release (its filters apply): the map is
    # their mean, so it moves with the board and is cached with it.
    overall = replace(query, column=OVERALL, slices=(), method="", metric="", sort="rank", order="")
    board = cached_board(overall)
    ranked = board.ranked
    method = declared.methods[0]

    def build() -> Population:
        scores = Score.objects.filter(
            job_id__in=[r.job_id for r in ranked], method=method.key, metric=method.primary
        )
        # Each cell's slices decoded once, not once per model (hundreds of thousands of rows
        # at 1,000 models); the map's points read no sub-metric (`parts`).
        cells = dict(scores.order_by().values_list("slice_key", "slices").distinct())
        measured = [name for name in MEASURE_FIELDS if name != "parts"]
        rows = scores.values_list("job_id", "slice_key", *measured)
        return population(
            declared,
            [
                (str(job), (cells[key], Measure(**dict(zip(measured, row, strict=True)))))
                for job, key, *row in rows
            ],
            "chart-board",
            f"Mean over {len(ranked)} ranked model{'s' if len(ranked) != 1 else ''}",
        )

    result = cached_value(f"{overall.cache_key()}|map", build)
    context = {
        "benchmark": declared,
        "release": query.release,
        "population": result,
        "picture": result.map,
        "metric": result.metric,
        "kind": result.kind,
        "models": len(ranked),
        "averaged": True,
        "dimension": declared.map_dimension,
    }
    return render(request, "boards/world_map.html", context)
