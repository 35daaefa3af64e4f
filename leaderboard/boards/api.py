"""The leaderboard API: a benchmark's board rows for the same view state as its page, read
through the page's own query (`parse_board_query`), so both validate against the declaration."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from evaluation.benchmarks import all_benchmarks, get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition, Method, SliceDimension
from leaderboard.api.pagination import Pagination
from leaderboard.boards.disparity import board_disparities, disparity_state
from leaderboard.boards.judge_summary import board_judging
from leaderboard.boards.models import ReportedResult
from leaderboard.boards.params import parse_board_query
from leaderboard.boards.queries import (
    OVERALL,
    SIZE_BUCKETS,
    SORT_KEYS,
    Board,
    BoardRow,
    cached_board,
    method_gaps,
)
from leaderboard.boards.reported import board_reported, publisher_run_dicts, result_dict
from leaderboard.boards.responses import cached_response
from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.scoping import (
    BENCHMARK_PARAMETER,
    LEGACY_BENCHMARK,
    NO_BENCHMARK_PARAMETER,
    BenchmarkScoped,
    legacy_note,
)
from leaderboard.catalog.visibility import is_staff
from leaderboard.evals.api import MeasureSerializer
from leaderboard.evals.disparity import as_api
from leaderboard.evals.models import ModelType, Precision


class BoardRowSerializer(serializers.Serializer[BoardRow]):
    rank = serializers.IntegerField(
        allow_null=True, help_text="Shared rank; null when the model's scores are incomplete."
    )
    rank_best = serializers.IntegerField(
        allow_null=True,
        help_text="Best rank over the board's bootstrap resamples (`rank_resamples`); null when "
        "unranked or when the board has no rank spread (`rank_spread_note` says why).",
    )
    rank_worst = serializers.IntegerField(
        allow_null=True, help_text="Worst rank over the board's bootstrap resamples."
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
        child=MeasureSerializer(),
        help_text="Scores per column: the averaged dimension's values (NaVAB: nation codes).",
    )
    url = serializers.SerializerMethodField()

    def get_url(self, row: BoardRow) -> str:
        return reverse("model-detail", args=[row.model_id])


class BoardPagination(Pagination):
    """Pages of rows, plus which board they come from, as the declaration names it: the
    benchmark, the release (default: its newest), each slice dimension's value, the method
    and metric, the columns (the averaged dimension's values) and the declared parts."""

    board: Board

    def board_header(self) -> dict[str, Any]:
        board = self.board
        assert board.method is not None and board.metric is not None
        return {
            "benchmark": board.query.release.benchmark.slug,
            "release": board.query.release.version,
            "slices": board_slices(board),
            "method": board.method.key,
            "track": board.method.track.value,
            "judges": board.judges,
            "metric": board.metric.key,
            "columns": [{"code": c.code, "name": c.name} for c in board.columns],
            "parts": [{"key": key, "label": label} for key, label in board.parts],
            "total_models": board.total,
            "rank_resamples": board.rank_resamples,
            "rank_spread_note": board.rank_spread_note,
            "reported": [row.as_dict() for row in board_reported(board)],
            # The judges page in brief (a judged method only; null elsewhere).
            "judging": judging.as_dict() if (judging := board_judging(board)) else None,
            "publisher_runs": publisher_run_dicts(board),
            # As the page says it: why models have no scores of the method.
            "no_scores": no_scores(board.query.release, board.method),
        }

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data = {**self.board_header(), **response.data}
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"] = {**HEADER_SCHEMA, **paginated["properties"]}
        return paginated


TEXT: dict[str, Any] = {"type": "string"}
HEADER_SCHEMA: dict[str, Any] = {
    "benchmark": TEXT,
    "release": TEXT,
    "slices": {
        "type": "object",
        "additionalProperties": TEXT,
        "description": (
            "The value shown of each slice dimension: the averaged one's (or `overall`) and "
            'the chosen values of the others, e.g. {"nation": "overall", "mode": "quoted"}.'
        ),
    },
    "method": TEXT,
    "track": {
        "type": "string",
        "description": "Where the method's numbers come from (loglikelihood, generative, "
        "judged); rankings never mix tracks.",
    },
    "judges": {
        "type": "array",
        "items": TEXT,
        "description": "A reference-judged method's judges (name@revision) as the ranked "
        "jobs' cards record them.",
    },
    "judging": {
        "type": "object",
        "nullable": True,
        "description": "A judged method's judges in brief (null for other methods): `panel` "
        "(several judges on every answer), Krippendorff's `alpha` with its 95% `alpha_ci` over "
        "`alpha_n` answers, `flip_share` (answers, of the `flip_n` the panel decided, whose "
        "verdict changes when some one judge is left out), `rank_moves` (of the `ranked` "
        "models, those some judge alone ranks elsewhere) and a `note` saying why a number is "
        "null; the "
        "details are at /api/benchmarks/<benchmark>/judges/.",
    },
    "metric": TEXT,
    "columns": {
        "type": "array",
        "items": {"type": "object", "properties": {"code": TEXT, "name": TEXT}},
        "description": "The averaged dimension's values the board has columns for.",
    },
    "parts": {
        "type": "array",
        "items": {"type": "object", "properties": {"key": TEXT, "label": TEXT}},
        "description": "The method's declared sub-metrics (NaVAB: the position halves).",
    },
    "total_models": {"type": "integer"},
    "rank_resamples": {
        "type": "integer",
        "description": "Paired bootstrap resamples of the items each row's `rank_best` and "
        "`rank_worst` are taken over.",
    },
    "rank_spread_note": {
        "type": "string",
        "description": "Why the rows have no rank range (empty when they have one).",
    },
    "reported": {
        "type": "array",
        "items": {"type": "object"},
        "description": "Results the benchmark's publisher reported for this view's method and "
        "cell, with their sources: not run here and never ranked. `site_value` is the site's "
        "score of the same model on this view, `difference` the site's minus the publisher's "
        "where both measured the same items (`comparable`).",
    },
    "publisher_runs": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"model_id": {"type": "integer"}, "name": TEXT, "url": TEXT},
        },
        "description": "The publisher's own runs of this view's method on the release, "
        "imported from its per-item records and scored here: never ranked.",
    },
    "no_scores": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"reason": TEXT, "models": {"type": "integer"}},
        },
        "description": "Why models evaluated on the release have no scores of the method "
        "(their runs left it out: PAA without a judge panel or without a verdict), with how "
        "many models each reason applies to; the page says the same. Empty when none.",
    },
}


def no_scores(release: DatasetRelease, method: Method) -> list[dict[str, Any]]:
    """Why models evaluated on RELEASE have no scores of METHOD, with how many each."""
    return [{"reason": r, "models": n} for r, n in method_gaps(release, method.key).not_run]


def board_slices(board: Board) -> dict[str, str]:
    benchmark = get_benchmark(board.query.release.benchmark.slug)
    averaged = benchmark.averaged_dimension
    return {**({averaged.key: board.query.column} if averaged else {}), **board.selected}


class LegacyBoardPagination(BoardPagination):
    """Today's `/api/leaderboard/` also names each slice value at the top (NaVAB: `nation`,
    `mode`), as it did before boards were generic."""

    def board_header(self) -> dict[str, Any]:
        header = super().board_header()
        return {**header, **header["slices"]}

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        keys = [d.key for d in get_benchmark(LEGACY_BENCHMARK).slices]
        paginated["properties"] = {**{key: TEXT for key in keys}, **paginated["properties"]}
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


def _per_benchmark(benchmarks: list[BenchmarkDefinition], describe: Any) -> str:
    if len(benchmarks) == 1:
        return str(describe(benchmarks[0]))
    return "; ".join(f"{b.name}: {describe(b)}" for b in benchmarks)


def _slice_text(benchmark: BenchmarkDefinition, dimension: SliceDimension) -> str:
    held = f"{dimension.label}: a value the release holds"
    if dimension.averaged:
        return f"{held}, or {OVERALL!r} (the mean over them; the default)"
    if benchmark.averaged_dimension is not None and dimension.tabs:
        # Scores cross the averaged dimension with this one (see queries.board_selection).
        return f"{held} (default: its first scored one)"
    return f"{held} (default: none, the benchmark's overall)"


def _slice_parameters(benchmarks: list[BenchmarkDefinition]) -> list[Any]:
    texts: dict[str, list[str]] = {}
    for benchmark in benchmarks:
        for dimension in benchmark.slices:
            text = _slice_text(benchmark, dimension)
            texts.setdefault(dimension.key, []).append(
                f"{benchmark.name}: {text}" if len(benchmarks) > 1 else text
            )
    return [_param(key, "; ".join(found) + ".") for key, found in texts.items()]


def board_parameters(benchmarks: list[BenchmarkDefinition]) -> list[Any]:
    """The board's query parameters, described from the benchmarks' declarations (one: the
    legacy NaVAB alias; all: the generic endpoint, each parameter naming who declares it)."""
    single = benchmarks[0] if len(benchmarks) == 1 else None
    methods = _per_benchmark(
        benchmarks, lambda b: ", ".join(m.key for m in b.methods) + " (default: the first)"
    )
    metrics = _per_benchmark(
        benchmarks,
        lambda b: ", ".join(f"{m.key}: {'/'.join(x.key for x in m.metrics)}" for m in b.methods),
    )
    return [
        _param("release", "Release version (default: the benchmark's newest published one)."),
        *_slice_parameters(benchmarks),
        _param(
            "method", f"The method: {methods}.", [m.key for m in single.methods] if single else None
        ),
        _param("metric", f"The method's metric (default: its primary one): {metrics}."),
        _param("type", "Model types to keep.", list(ModelType.values), many=True),
        _param("precision", "Precisions to keep.", list(Precision.values), many=True),
        _param("size", "Size buckets to keep.", [*SIZE_BUCKETS, "unknown"], many=True),
        _param("family", "Model family (exact, case-insensitive)."),
        _param("q", "Search in model names and families."),
        _param("sort", f"{', '.join(SORT_KEYS)} or a column's code (default: rank)."),
        _param("order", "asc or desc (default: the column's natural order).", ["asc", "desc"]),
    ]


BOARD_DESCRIPTION = (
    "Board rows for a release, slice, method and metric, with the page's filters, as the "
    "benchmark declares them (see /api/benchmarks/<slug>/). Ranks are shared while 95% "
    "confidence intervals overlap, in the metric's declared direction; models without a "
    "complete set of scores come last, unranked. Filters hide rows without changing anyone's "
    "rank. A value the benchmark does not declare, or the release does not hold, is a 404."
)


@extend_schema(parameters=[BENCHMARK_PARAMETER])
class LeaderboardViewSet(BenchmarkScoped, mixins.ListModelMixin, viewsets.GenericViewSet[Any]):
    """A benchmark's board: the page's view state and rows, through the page's own query."""

    serializer_class = BoardRowSerializer
    pagination_class: type[BoardPagination] = BoardPagination
    filter_backends: list[Any] = []  # the board's own parameters filter it (parse_board_query)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no benchmark
            return []
        query = parse_board_query(
            self.request.query_params,
            staff=is_staff(self.request.user),
            benchmark=self.benchmark_row().slug,
        )
        self.board = cached_board(query)
        return self.board.rows

    def paginate_queryset(self, queryset: Any) -> Any:
        if isinstance(self.paginator, BoardPagination):
            self.paginator.board = self.board
        return super().paginate_queryset(queryset)

    @extend_schema(description=BOARD_DESCRIPTION, parameters=board_parameters(all_benchmarks()))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        # Authentication, permissions and throttles have run (DRF's `initial`); an anonymous
        # JSON answer is then the same for everyone and is kept whole (boards.responses).
        if request.user.is_authenticated or request.accepted_renderer.format != "json":
            return super().list(request, *args, **kwargs)
        return cached_response(
            request._request, lambda: self.rendered_list(request, *args, **kwargs), "json"
        )

    def rendered_list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """The list as DRF's `finalize_response` would render it, as bytes to keep."""
        response = self.finalize_response(request, super().list(request, *args, **kwargs))
        if isinstance(response, Response):
            response.render()
        return response


@extend_schema(parameters=[NO_BENCHMARK_PARAMETER])
class LegacyLeaderboardViewSet(LeaderboardViewSet):
    fixed_benchmark = LEGACY_BENCHMARK
    pagination_class = LegacyBoardPagination

    @extend_schema(
        description=f"{BOARD_DESCRIPTION}\n\n{legacy_note('leaderboard/')}",
        parameters=board_parameters([get_benchmark(LEGACY_BENCHMARK)]),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


@extend_schema(parameters=[BENCHMARK_PARAMETER])
class DisparityViewSet(BenchmarkScoped, viewsets.ViewSet):
    """Every ranked model's disparity on one slice dimension of a release (the disparity
    board): best minus worst ranked slice on the method's primary metric, with its 95%
    interval, and the slices furthest below each model's own mean."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[
            _param("release", "A release version (default: the benchmark's newest)."),
            _param("method", "A declared method (default: the first)."),
            _param("dimension", "A declared slice dimension (default: the first)."),
            _param("sort", "disparity (largest first), worst (lowest worst slice) or model."),
        ],
    )
    def list(self, request: Request, benchmark_slug: str = "") -> Response:
        slug = self.benchmark_row().slug
        release, declared, method, dimension, sort = disparity_state(
            request.query_params, staff=is_staff(request.user), benchmark=slug
        )
        rows = board_disparities(release, declared, method, dimension, sort)
        return Response(
            {
                "benchmark": slug,
                "release": release.version,
                "method": method.key,
                "metric": method.primary,
                "dimension": dimension.key,
                "min_n": dimension.min_n,
                "sort": sort,
                # As the page: why models have no disparity of the method (no scores).
                "no_scores": no_scores(release, method),
                "rows": [
                    {
                        "model_id": row.model.pk if row.model else None,
                        "model": row.model.public_name if row.model else "",
                        "url": reverse("model-detail", args=[row.model.pk]) if row.model else "",
                        **as_api(row.found, declared),
                    }
                    for row in rows
                ],
            }
        )


@extend_schema(parameters=[BENCHMARK_PARAMETER])
class ReportedViewSet(BenchmarkScoped, viewsets.ViewSet):
    """Every result the benchmark's publisher reported (a paper's table, a README), with its
    source: labelled "reported by the publisher, not run here", never ranked."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[_param("method", "A declared method (default: every method).")],
    )
    def list(self, request: Request, benchmark_slug: str = "") -> Response:
        benchmark = self.benchmark_row()
        results = ReportedResult.objects.filter(benchmark=benchmark)
        if request.query_params.get("method"):
            results = results.filter(method=request.query_params["method"])
        return Response({"benchmark": benchmark.slug, "results": [result_dict(r) for r in results]})
