"""A model's page as data, beyond its scores (`/api/scores/`) and disparity: its reported
results beside the site's scores (`/api/models/<id>/reported/`) and its alignment effects
(`/api/models/<id>/alignment-effects/`). Never an average across benchmarks."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from leaderboard.boards.alignment_effect import (
    AlignmentEffect,
    alignment_effect,
    derived_effects,
    effect_dict,
)
from leaderboard.boards.model_reported import current_jobs, model_reported
from leaderboard.boards.models import ReportedResult
from leaderboard.evals.models import LanguageModel, ModelType


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


def _effect(effect: AlignmentEffect) -> dict[str, Any]:
    """The alignment API's effect (in domain and each out-of-domain set side by side), with
    the in-domain rows at the top as the model page lists them."""
    body = effect_dict(effect)
    return {
        "base_model": effect.base.pk,
        "aligned_model": effect.aligned.pk,
        "aligned_name": effect.aligned.public_name,
        "release": effect.aligned_job.release.version,
        "benchmark": effect.aligned_job.release.benchmark.slug,
        "target": effect.target,
        "summary": body["in_domain"]["summary"],
        "cells": body["in_domain"]["cells"],
        "out_of_domain": body["out_of_domain"],
        "reported": body["reported"],
    }


@extend_schema(
    responses=OpenApiTypes.OBJECT,
    description=(
        "Alignment effects as the model's page shows them: for an aligned model its own "
        "(`effect`, null until both held-out runs have finished), for any model those of the "
        "models aligned from it (`derived`): aligned minus base on the same held-out items, "
        "with paired bootstrap 95% intervals, over all items, the target, the rest and each "
        "board cell."
    ),
)
@api_view(["GET"])
def model_alignment_effects_view(request: Request, pk: int) -> Response:
    model = get_object_or_404(LanguageModel, pk=pk)
    own = alignment_effect(model) if model.model_type == ModelType.ALIGNED else None
    derived = derived_effects(model)
    return Response(
        {
            "model": model.pk,
            "effect": _effect(own) if own else None,
            "derived": [_effect(e) for e in derived],
        }
    )
