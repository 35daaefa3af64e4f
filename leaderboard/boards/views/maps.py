"""A benchmark's world map: the mean over its ranked models per place, linked from its board.
Only benchmarks that declare a dimension of places have one (DiverValue-Bench's birth
country/region)."""

from __future__ import annotations

import json
from dataclasses import replace

from django.db.models import Count, F, Max, Min, Sum, TextField
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.cache import cached_value
from leaderboard.boards.params import parse_board_query
from leaderboard.boards.population import Population, SliceScores, population
from leaderboard.boards.queries import OVERALL, cached_board
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
        ).order_by()
        # Summed per cell by the database: one row a cell, not one a model and cell (hundreds
        # of thousands at 1,000 models). The database adds in its own order, so a mean may
        # differ from one added in Python in its last bit, far below any digit shown.
        sums = scores.values("slice_key").annotate(
            models=Count("id"),
            total=Sum("value"),
            squares=Sum(F("stderr") * F("stderr")),
            most=Max("n"),
            fewest=Min("clusters"),
            first=Min("value"),
            low=Min("ci_low"),
            high=Max("ci_high"),
            # A cell's slices are the same on each of its rows (its key names them): read in
            # the same pass as text, not by a second scan comparing JSON values row by row.
            slices=Min(Cast("slices", TextField())),
        )
        slices = {cell["slice_key"]: json.loads(cell["slices"]) for cell in sums}
        cells = {
            next(iter(slices[cell["slice_key"]].items())): SliceScores(
                models=cell["models"],
                total=cell["total"],
                squares=cell["squares"],
                n=cell["most"],
                clusters=cell["fewest"],
                value=cell["first"],
                low=cell["low"],
                high=cell["high"],
            )
            for cell in sums
            # The overall, or a cell crossing dimensions, is no population slice.
            if len(slices[cell["slice_key"]]) == 1
        }
        return population(
            declared,
            cells,
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
