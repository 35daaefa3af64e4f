"""`/api/models/<id>/reported/`: a model's reported results beside the site's scores, as data."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from leaderboard.boards.model_reported import current_jobs, model_reported
from leaderboard.boards.models import ReportedResult
from leaderboard.evals.models import LanguageModel


@extend_schema(
    responses=OpenApiTypes.OBJECT,
    description=(
        "What each benchmark's publisher reported for this model (labelled \"reported by the "
        "publisher, not run here\", with its source), each metric beside the site's score of "
        "the same method and slice on the benchmark's current release, and the difference only "
        "where both counted the same items (`not_compared` says why not). Never averaged "
        "across benchmarks."
    ),
)
@api_view(["GET"])
def model_reported_view(request: Request, pk: int) -> Response:
    model = get_object_or_404(LanguageModel, pk=pk)
    slugs = ReportedResult.objects.filter(site_model=model).values_list(
        "benchmark__slug", flat=True
    )
    rows = model_reported(model, current_jobs(model, set(slugs)))
    return Response(
        {
            "model": model.pk,
            "name": model.public_name,
            "publisher_run": model.publisher_run,
            "reported": [row.as_dict() for row in rows],
        }
    )
