"""The leaderboard API: the board's rows for the same view state as the page (`?nation=...`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from leaderboard.api.pagination import Pagination
from leaderboard.benchmark.visibility import is_staff
from leaderboard.boards.cache import cached_board
from leaderboard.boards.params import parse_board_query
from leaderboard.boards.queries import OVERALL, SIZE_BUCKETS, SORT_KEYS, Board, BoardRow, Cell
from leaderboard.evals.models import Method, ModelType, Precision


class CellSerializer(serializers.Serializer[Cell]):
    value = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    stderr = serializers.FloatField()
    n = serializers.IntegerField()
    parts = serializers.DictField(
        child=serializers.DictField(),
        help_text='The method\'s declared sub-metrics: key -> {"value": float | null, "n": int}.',
    )


class BoardRowSerializer(serializers.Serializer[BoardRow]):
    rank = serializers.IntegerField(
        allow_null=True, help_text="Shared rank; null when the model's scores are incomplete."
    )
    complete = serializers.BooleanField()
    model_id = serializers.IntegerField()
    model = serializers.CharField(source="name")
    display_name = serializers.CharField()
    revision = serializers.CharField()
    model_type = serializers.CharField()
    precision = serializers.CharField()
    params_billions = serializers.FloatField(allow_null=True)
    family = serializers.CharField()
    job_id = serializers.IntegerField()
    # Null when incomplete: DRF reads None for `primary.*` when `primary` is None.
    score = serializers.FloatField(source="primary.value", allow_null=True)
    ci_low = serializers.FloatField(source="primary.low", allow_null=True)
    ci_high = serializers.FloatField(source="primary.high", allow_null=True)
    n = serializers.IntegerField(allow_null=True)
    parts = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="The declared sub-metrics over the ranked cells (NaVAB: pos, neg).",
    )
    cells = serializers.DictField(
        child=CellSerializer(), help_text="Per-nation scores, keyed by nation code."
    )
    url = serializers.SerializerMethodField()

    def get_url(self, row: BoardRow) -> str:
        return reverse("model-detail", args=[row.model_id])


class BoardPagination(Pagination):
    """Pages of rows, plus which board they come from (the release defaults to the newest)."""

    board: Board

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        query = self.board.query
        response.data = {
            "release": query.release.version,
            **self.board.state(),
            "total_models": self.board.total,
            **response.data,
        }
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        text = {"type": "string"}
        paginated["properties"] = {
            "release": text,
            "nation": text,
            "mode": text,
            "method": text,
            "total_models": {"type": "integer"},
            **paginated["properties"],
        }
        return paginated


def _param(name: str, description: str, enum: list[str] | None = None, many: bool = False) -> Any:
    return OpenApiParameter(
        name,
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description=description,
        enum=enum,
        many=many,
        explode=True if many else None,
    )


BOARD_PARAMETERS = [
    _param("release", "Release version (default: the newest published release)."),
    _param("nation", f"A nation code, or {OVERALL!r} (mean over nations; the default)."),
    _param("mode", "quoted (default) or official.", ["quoted", "official"]),
    _param("method", "mc (default) or aj.", list(Method.values)),
    _param("type", "Model types to keep.", list(ModelType.values), many=True),
    _param("precision", "Precisions to keep.", list(Precision.values), many=True),
    _param("size", "Size buckets to keep.", [*SIZE_BUCKETS, "unknown"], many=True),
    _param("family", "Model family (exact, case-insensitive)."),
    _param("q", "Search in model names and families."),
    _param("sort", f"{', '.join(SORT_KEYS)} or a nation code (default: rank)."),
    _param("order", "asc or desc (default: the column's natural order).", ["asc", "desc"]),
]


class LeaderboardViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Any]):
    """Board rows for a release, nation (or overall), mode and method, with the page's filters.

    Ranks are shared while 95% confidence intervals overlap; models without a complete set of
    scores come last, unranked. Filters hide rows without changing anyone's rank.
    """

    serializer_class = BoardRowSerializer
    pagination_class = BoardPagination
    filter_backends: list[Any] = []  # the board's own parameters filter it (parse_board_query)

    def get_queryset(self) -> Any:
        query = parse_board_query(self.request.query_params, staff=is_staff(self.request.user))
        self.board = cached_board(query)
        return self.board.rows

    def paginate_queryset(self, queryset: Any) -> Any:
        if isinstance(self.paginator, BoardPagination):
            self.paginator.board = self.board
        return super().paginate_queryset(queryset)

    @extend_schema(parameters=BOARD_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
