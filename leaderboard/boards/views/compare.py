"""Compare 2-4 models (`/<benchmark>/compare/?models=1,2`): paired per-cell deltas and disagreements."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.compare import MAX_MODELS, Comparison, compare
from leaderboard.boards.params import parse_model_ids, resolve_release
from leaderboard.boards.queries import model_options
from leaderboard.boards.responses import cached_response
from leaderboard.catalog.visibility import is_staff

MIN_MODELS = 2


def compare_models(request: HttpRequest, benchmark: str) -> HttpResponseBase:
    # Scores and per-example results change only when a job finishes (the board version):
    # whole anonymous responses are kept per version and query (responses.py).
    return cached_response(request, lambda: render_comparison(request, benchmark))


def render_comparison(request: HttpRequest, benchmark: str) -> HttpResponse:
    release = resolve_release(request.GET, staff=is_staff(request.user), benchmark=benchmark)
    declared = get_benchmark(benchmark)
    ids = parse_model_ids(request.GET)
    method = request.GET.get("method", "")
    method = method if method in [m.key for m in declared.methods] else ""
    problem = ""
    comparison: Comparison | None = None
    if len(ids) > MAX_MODELS:
        problem = f"Pick at most {MAX_MODELS} models to compare (you picked {len(ids)})."
    elif len(ids) >= MIN_MODELS:
        comparison = compare(release, ids, method or None)
        missing = len(ids) - len(comparison.models)
        if missing:
            have, they = ("has", "it is") if missing == 1 else ("have", "they are")
            problem = (
                f"{missing} of the models picked {have} no finished evaluation on release "
                f"{release.version}; {they} left out."
            )
        if len(comparison.models) < MIN_MODELS:
            comparison = None
    # Four pickers, prefilled with the current selection (empty ones pick nothing).
    picked: list[int | None] = [*ids[:MAX_MODELS], *[None] * MAX_MODELS][:MAX_MODELS]
    options = model_options(release)
    context = {
        "release": release,
        "comparison": comparison,
        "problem": problem,
        "pickers": [options.selecting(pk) for pk in picked],
        "method": method,
        "benchmark": declared,
        "colspan": len(comparison.dimensions) + len(comparison.models) + 1 if comparison else 1,
    }
    return render(request, "boards/compare.html", context)
