"""The method-agreement page (`/<benchmark>/agreement/?pair=mc-aj`): per ranked model, how far
two protocols' per-item verdicts agree, and the items where they disagree."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leaderboard.boards.agreement import agreement_board, agreement_state
from leaderboard.boards.agreement_chart import agreement_chart
from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.visibility import is_staff


def method_agreement(request: HttpRequest, benchmark: str) -> HttpResponse:
    release, declared, pairs, pair = agreement_state(
        request.GET, staff=is_staff(request.user), benchmark=benchmark
    )
    rows = agreement_board(release, declared, pair)
    context: dict[str, Any] = {
        "benchmark": declared,
        "release": release,
        "pairs": pairs,
        "pair": pair,
        "rows": rows,
        "chart": agreement_chart(release, pair, rows) if rows else None,
        "flagged": sum(1 for row in rows if row.flagged or row.overall.disagrees),
        "releases": DatasetRelease.objects.published().filter(benchmark__slug=benchmark),
    }
    return render(request, "boards/agreement.html", context)
