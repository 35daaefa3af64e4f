"""The judges page (`/<benchmark>/judges/?method=paa`): how much a judged number depends on
its judges."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leaderboard.boards.judge_robustness import judges_board, judges_state
from leaderboard.boards.judges import recorded_judges
from leaderboard.boards.judges_chart import judges_chart
from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.visibility import is_staff
from leaderboard.evals.models import LanguageModel


def judges_page(request: HttpRequest, benchmark: str) -> HttpResponse:
    release, declared, methods, method = judges_state(
        request.GET, staff=is_staff(request.user), benchmark=benchmark
    )
    board = judges_board(release, declared, method)
    recorded: list[str] = []
    if board is None:
        # One judge per run (the site's reference judge): say which, as the runs record it.
        job_ids = [
            m.latest_job_id  # type: ignore[attr-defined]
            for m in LanguageModel.objects.on_release(release)
        ]
        recorded = recorded_judges(job_ids, method)
    context: dict[str, Any] = {
        "benchmark": declared,
        "release": release,
        "methods": methods,
        "method": method,
        "board": board,
        "chart": judges_chart(release, board) if board is not None else None,
        "recorded": recorded,
        "pairs_with_method": [p for p in declared.method_pairs if method.key in p],
        "releases": DatasetRelease.objects.published().filter(benchmark__slug=benchmark),
    }
    return render(request, "boards/judges.html", context)
