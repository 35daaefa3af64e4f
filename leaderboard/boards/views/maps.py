"""A benchmark's world map: the mean over its ranked models per place, linked from its board.
Only benchmarks that declare a dimension of places have one (DiverValue-Bench's birth
country/region)."""

from __future__ import annotations

from dataclasses import replace

from django.db.models import Count, F, Max, Min, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from evaluation.benchmarks import get_benchmark
from evaluation.results import slice_key
from leaderboard.boards.cache import cached_value
from leaderboard.boards.params import parse_board_query
from leaderboard.boards.population import Population, SliceScores, population
from leaderboard.boards.queries import OVERALL, build_board
from leaderboard.boards.responses import cached_response
from leaderboard.catalog.counts import slice_values
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
    # their mean, so it moves with the board and is cached with it. Only who is ranked is read
    # of that board: a lean one, built with the map's picture and kept only as its count (kept
    # on its own, its 1,000 rows were pickled into the cache on every cold map).
    overall = replace(query, column=OVERALL, slices=(), method="", metric="", sort="rank", order="")
    method = declared.methods[0]

    def build() -> tuple[Population, int]:
        ranked = build_board(overall, lean=True).ranked
        scores = Score.objects.filter(
            job_id__any={r.job_id for r in ranked}, method=method.key, metric=method.primary
        ).order_by()
        # Summed per cell by the database: one row a cell, not one a model and cell (hundreds
        # of thousands at 1,000 models). The database adds in its own order, so a mean may
        # differ from one added in Python in its last bit, far below any digit shown. Counted
        # by value, not id: every field read is in the scores' index (see Score).
        sums = scores.values("slice_key").annotate(
            models=Count("value"),
            total=Sum("value"),
            squares=Sum(F("stderr") * F("stderr")),
            most=Max("n"),
            fewest=Min("clusters"),
            first=Min("value"),
            low=Min("ci_low"),
            high=Max("ci_high"),
        )
        # A population slice is a cell of one dimension's value, named by its key: told from
        # the values the release holds, not from each score's slices (a cast of 64,000 JSON
        # values to text was a third of the sums at 1,000 models).
        held = slice_values(query.release)
        single = {
            slice_key({d.key: value}): (d.key, value)
            for d in declared.slices
            for value in held.get(d.key, [])
        }
        cells = {
            single[cell["slice_key"]]: SliceScores(
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
            if cell["slice_key"] in single
        }
        found = population(
            declared,
            cells,
            "chart-board",
            f"Mean over {len(ranked)} ranked model{'s' if len(ranked) != 1 else ''}",
        )
        return found, len(ranked)

    result, ranked = cached_value(f"{overall.cache_key()}|map", build)
    context = {
        "benchmark": declared,
        "release": query.release,
        "population": result,
        "picture": result.map,
        "metric": result.metric,
        "kind": result.kind,
        "models": ranked,
        "averaged": True,
        "dimension": declared.map_dimension,
    }
    return render(request, "boards/world_map.html", context)
