"""`/api/benchmarks/<benchmark>/judges/?method=paa`: the judges page as data."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from evaluation.benchmarks.judge_robustness import JudgeAlpha, LeaveOneOut
from leaderboard.boards.judge_robustness import (
    JudgesBoard,
    judges_board,
    judges_state,
    publisher_judges_board,
)
from leaderboard.catalog.scoping import BENCHMARK_PARAMETER, BenchmarkScoped
from leaderboard.catalog.visibility import is_staff


def _alpha(alpha: JudgeAlpha) -> dict[str, Any]:
    return {"alpha": alpha.alpha, "ci": list(alpha.ci) if alpha.ci else None, "n": alpha.n}


def _flips(flips: LeaveOneOut | None) -> dict[str, Any] | None:
    if flips is None:
        return None
    return {"any_judge": flips.any_flip, "by_judge": flips.flips, "n": flips.n}


def _board(board: JudgesBoard) -> dict[str, Any]:
    return {
        "judges": board.judges,
        "alpha": _alpha(board.alpha),
        "flips": _flips(board.flips),
        "rows": [
            {
                "model_id": row.model.pk,
                "model": row.model.public_name,
                "url": reverse("model-detail", args=[row.model.pk]),
                "answers": row.n,
                "panel": row.panel,
                "panel_rank": row.panel_rank,
                "by_judge": {
                    judge: {"aligned": share, "rank": rank}
                    for judge, share, rank in row.judge_cells(board.judges)
                },
                "alpha": _alpha(row.alpha),
                "flips": _flips(row.flips),
            }
            for row in board.rows
        ],
    }


@extend_schema(parameters=[BENCHMARK_PARAMETER])
class JudgesViewSet(BenchmarkScoped, viewsets.ViewSet):
    """For a judged method with a panel (DiverValue-Bench `paa`): each ranked model's share
    judged aligned by the panel and by each judge alone, its rank under each, Krippendorff's
    alpha of the judges' votes with a 95% interval, and the share of answers whose panel
    verdict flips when one judge is left out. `panel: false` where the method has one judge
    per run. `publisher_runs`: the same for the publisher's imported runs, judged by its own
    panel (null without any)."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("release", OpenApiTypes.STR, description="A release version."),
            OpenApiParameter("method", OpenApiTypes.STR, description="A judged method."),
        ],
    )
    def list(self, request: Request, benchmark_slug: str = "") -> Response:
        slug = self.benchmark_row().slug
        release, declared, methods, method = judges_state(
            request.query_params, staff=is_staff(request.user), benchmark=slug
        )
        board = judges_board(release, declared, method)
        publisher = publisher_judges_board(release, declared, method)
        body: dict[str, Any] = {
            "benchmark": slug,
            "release": release.version,
            "methods": [m.key for m in methods],
            "method": method.key,
            "panel": board is not None,
        }
        if board is not None:
            body |= _board(board)
            # The publisher's runs judged by its own panel: apart, never ranked with the rows.
            body["publisher_runs"] = _board(publisher) if publisher is not None else None
        return Response(body)
