"""`/api/alignment-effects/<aligned model id>/`: an alignment's effect in domain and on each
out-of-domain set side by side, with the publisher's figures of the same study."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from leaderboard.boards.alignment_effect import alignment_effect, effect_dict
from leaderboard.evals.models import LanguageModel, ModelType

PENDING = (
    "The comparison appears once the aligned model's held-out evaluation and its base model's "
    "evaluation on the same items have finished."
)


class AlignmentEffectViewSet(viewsets.ViewSet):
    lookup_value_regex = r"\d+"

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description=(
            "Base vs aligned, paired item by item: in domain (the items held out of training) "
            "and on each out-of-domain set of the benchmark (DiverValue-Bench: UF-P-4), never "
            "pooled; `reported` holds the publisher's own figures, not run here."
        ),
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        model = get_object_or_404(LanguageModel, pk=pk, model_type=ModelType.ALIGNED)
        effect = alignment_effect(model)
        body: dict[str, Any] = (
            {"aligned_model_id": model.pk, "pending": PENDING}
            if effect is None
            else {**effect_dict(effect), "pending": ""}
        )
        return Response(body)
