"""`/api/benchmarks/<benchmark>/agreement/`: the method-agreement page as data."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from leaderboard.boards.agreement import (
    ModelAgreement,
    agreement_board,
    agreement_state,
    as_api,
)
from leaderboard.catalog.scoping import BENCHMARK_PARAMETER, BenchmarkScoped
from leaderboard.catalog.visibility import is_staff


def _query(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description)


@extend_schema(parameters=[BENCHMARK_PARAMETER])
class AgreementViewSet(BenchmarkScoped, viewsets.ViewSet):
    """For each ranked model scored by both methods of a declared pair (NaVAB `mc-aj`,
    `mc-aj_ref`; DiverValue-Bench `opa-paa`): each method's share of items judged aligned, their
    paired difference with a 95% interval (`disagree` where it excludes zero), the share of
    items with the same verdict and Cohen's kappa, overall and per slice, and the items on which
    the two disagree."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[
            _query("release", "A release version (default: the benchmark's newest)."),
            _query("pair", "A declared method pair, A-B (default: the first)."),
        ],
    )
    def list(self, request: Request, benchmark_slug: str = "") -> Response:
        slug = self.benchmark_row().slug
        release, declared, pairs, pair = agreement_state(
            request.query_params, staff=is_staff(request.user), benchmark=slug
        )
        rows = agreement_board(release, declared, pair)
        return Response(
            {
                "benchmark": slug,
                "release": release.version,
                "pairs": [p.key for p in pairs],
                "pair": {"key": pair.key, "a": pair.a.key, "b": pair.b.key},
                "rows": [_row(row, slug, release.version) for row in rows],
            }
        )


def _row(row: ModelAgreement, slug: str, version: str) -> dict[str, Any]:
    return {
        "model_id": row.model.pk,
        "model": row.model.public_name,
        "url": reverse("model-detail", args=[row.model.pk]),
        "job_id": row.job_id,
        "overall": as_api(row.overall),
        "flagged_slices": len(row.flagged),
        "slices": [
            {
                "dimension": s.dimension.key,
                "value": s.value,
                "too_few": s.too_few,
                **as_api(s.agreement),
            }
            for s in row.slices
        ],
        "disagreeing_items": [
            {
                "uid": d.uid,
                "a": d.verdict_a,
                "b": d.verdict_b,
                "url": reverse("item-results", args=[slug, version, d.uid]),
            }
            for d in row.items
        ],
    }
