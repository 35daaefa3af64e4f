"""The method-agreement page (`/<benchmark>/agreement/?pair=mc-aj`): per ranked model, how far
two protocols' per-item verdicts agree, and the items where they disagree."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.agreement import agreement_board, method_pairs
from leaderboard.boards.params import resolve_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.visibility import is_staff


def method_agreement(request: HttpRequest, benchmark: str) -> HttpResponse:
    release = resolve_release(request.GET, staff=is_staff(request.user), benchmark=benchmark)
    declared = get_benchmark(benchmark)
    pairs = method_pairs(declared)
    if not pairs:
        raise Http404(f"{declared.name} declares no pair of methods scoring the same items")
    wanted = request.GET.get("pair") or pairs[0].key
    pair = next((p for p in pairs if p.key == wanted), None)
    if pair is None:
        raise Http404(f"Unknown method pair {wanted!r}")
    rows = agreement_board(release, declared, pair)
    context: dict[str, Any] = {
        "benchmark": declared,
        "release": release,
        "pairs": pairs,
        "pair": pair,
        "rows": rows,
        "flagged": sum(1 for row in rows if row.flagged or row.overall.disagrees),
        "releases": DatasetRelease.objects.published().filter(benchmark__slug=benchmark),
    }
    return render(request, "boards/agreement.html", context)
