"""API for models, jobs, scores and per-example results; submissions need a token."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.utils import html

from evaluation.benchmarks import all_benchmarks
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.model_check import (
    SUBMITTED_NAME,
    SUBMITTED_NAME_MAX_LENGTH,
    SUBMITTED_NAME_MESSAGE,
)
from evaluation.providers.generation import (
    MAX_OUTPUT_TOKENS,
    MAX_SYSTEM_PROMPT_CHARS,
    MAX_TEMPERATURE,
    REASONING_EFFORTS,
    Generation,
)
from evaluation.results import MEASURE_FIELDS, SCORE_FIELDS
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import lifecycle, sample_details
from leaderboard.evals.disparity import latest_for_model
from leaderboard.evals.models import (
    EvaluationJob,
    JobEvent,
    LanguageModel,
    ModelType,
    Precision,
    SampleResult,
    Score,
)
from leaderboard.evals.permissions import can_manage
from leaderboard.evals.slices import declaration, item_slice_q, item_slices, item_values
from leaderboard.evals.submission import Submission, SubmissionError, submit


class WholeMatchValidator(RegexValidator):
    """A RegexValidator (so the schema shows its pattern) that must match the whole value, as
    JSON Schema's `$` does: Python's `$` would also accept a trailing newline."""

    def __call__(self, value: Any) -> None:
        if not re.compile(self.regex).fullmatch(str(value)):
            raise ValidationError(self.message, code=self.code, params={"value": value})


class LanguageModelSerializer(serializers.ModelSerializer[LanguageModel]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = LanguageModel
        fields = [
            "id",
            "name",
            "revision",
            "precision",
            "model_type",
            "params_billions",
            "family",
            "use_chat_template",
            "generation",
            "base_model",
            "is_demo",
            "publisher_run",
            "created_at",
            "url",
        ]

    def get_url(self, obj: LanguageModel) -> str:
        return obj.get_absolute_url()

    def to_representation(self, instance: LanguageModel) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        data["name"] = instance.public_name  # a local model's folder, not the server's path
        return data


BENCHMARK_SLUG = r"^[a-z0-9_-]{1,32}$"


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "pattern": BENCHMARK_SLUG, "maxLength": 32}}
)
class BenchmarkSlugsField(serializers.Field):  # type: ignore[type-arg]
    """A list of benchmark slugs whose errors are one flat list of messages, as the schema's
    error objects say (a ListField would key its items' errors by index)."""

    def get_value(self, dictionary: Any) -> Any:
        # A form-encoded body repeats the key once per slug.
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.getlist(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list) or not all(
            isinstance(slug, str) and re.fullmatch(BENCHMARK_SLUG, slug) for slug in data
        ):
            raise serializers.ValidationError("Expected a list of benchmark slugs.")
        return list(dict.fromkeys(data))

    def to_representation(self, value: list[str]) -> list[str]:
        return value


class GenerationSerializer(serializers.Serializer[dict[str, Any]]):
    """A chat model's generation settings (`evaluation.providers.generation.Generation`)."""

    max_tokens = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_OUTPUT_TOKENS,
        help_text="Most output tokens per answer (a reasoning model's thinking included); "
        "default: the benchmark's.",
    )
    temperature = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=MAX_TEMPERATURE,
        help_text="Default: 0 (greedy). Not sent to a reasoning model.",
    )
    system_prompt = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_SYSTEM_PROMPT_CHARS,
        help_text="A system turn sent before the task's own; default: none.",
    )
    reasoning = serializers.BooleanField(
        required=False,
        help_text="A reasoning model: no stop sequences and no temperature are sent, "
        "max_completion_tokens instead of max_tokens; its thinking is stripped before parsing.",
    )
    reasoning_effort = serializers.ChoiceField(
        choices=REASONING_EFFORTS, required=False, allow_null=True
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # A misspelt setting would otherwise be dropped without a word.
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    f"unknown generation settings: {', '.join(unknown)}"
                )
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return Generation(**attrs).to_dict()
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class SubmissionSerializer(serializers.Serializer[Submission]):
    # Validated exactly as the schema documents it: pattern and length, no silent trimming.
    name = serializers.CharField(
        max_length=SUBMITTED_NAME_MAX_LENGTH,
        trim_whitespace=False,
        validators=[WholeMatchValidator(SUBMITTED_NAME, SUBMITTED_NAME_MESSAGE)],
        help_text=SUBMITTED_NAME_MESSAGE,
    )
    revision = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    precision = serializers.ChoiceField(choices=Precision.choices, default=Precision.BFLOAT16)
    model_type = serializers.ChoiceField(choices=ModelType.choices, default=ModelType.BASE)
    params_billions = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, default=None
    )
    family = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    use_chat_template = serializers.BooleanField(default=False)
    endpoint_url = serializers.URLField(required=False, allow_blank=True, default="")
    provider = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="A registered provider's name (the submit form lists them); `name` is then "
        "the model's name at that provider.",
    )
    benchmarks = BenchmarkSlugsField(
        required=False,
        default=list,
        help_text=(
            "Benchmark slugs to evaluate on (see /api/benchmarks/); default: every benchmark "
            "with a published release. One job per benchmark, on its current release."
        ),
    )
    generation = GenerationSerializer(
        required=False,
        default=dict,
        help_text="Chat models of a provider only: generation settings (default: none).",
    )


class JobEventSerializer(serializers.ModelSerializer[JobEvent]):
    class Meta:
        model = JobEvent
        fields = ["at", "status", "message"]


class MeasureSerializer(serializers.ModelSerializer[Score]):
    """What a score measured (`evaluation.results.MEASURE_FIELDS`), read from a stored score
    or from a board's cell."""

    parts = serializers.DictField(
        child=serializers.DictField(),
        help_text='The method\'s declared sub-metrics: key -> {"value": float | null, "n": int}.',
    )

    class Meta:
        model = Score
        fields = list(MEASURE_FIELDS)
        extra_kwargs = {
            "clusters": {
                "help_text": "Clusters (users) the interval resampled; null where items are "
                "independent. One cluster has no interval and is never ranked."
            }
        }


class ScoreSerializer(MeasureSerializer):
    slices = serializers.DictField(
        child=serializers.CharField(),
        help_text='The cell, e.g. {"nation": "us", "mode": "quoted"}.',
    )

    class Meta(MeasureSerializer.Meta):
        fields = ["job", *SCORE_FIELDS]


class JobSerializer(serializers.ModelSerializer[EvaluationJob]):
    model = LanguageModelSerializer(read_only=True)
    release: serializers.SlugRelatedField[DatasetRelease] = serializers.SlugRelatedField(
        slug_field="version", read_only=True
    )
    events = JobEventSerializer(many=True, read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    is_partial = serializers.BooleanField(read_only=True)

    class Meta:
        model = EvaluationJob
        fields = [
            "id",
            "model",
            "release",
            "kind",
            "attempt",
            "status",
            "methods",
            "is_partial",
            "alignment",
            "produced_model",
            "worker_host",
            "infra_retries",
            "heartbeat_at",
            "progress_stage",
            "progress_done",
            "progress_total",
            "progress_percent",
            "failure_kind",
            "failure_reason",
            "usage",
            "budget_usd",
            "repro_card",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
            "events",
        ]


class SubmittedSerializer(serializers.Serializer[Any]):
    """What a submission created: the model and one job per benchmark."""

    model = LanguageModelSerializer(read_only=True)
    jobs = JobSerializer(many=True, read_only=True)


class SampleSerializer(serializers.ModelSerializer[SampleResult]):
    uid = serializers.CharField(source="item.uid", read_only=True)
    slices = serializers.SerializerMethodField()
    item = serializers.SerializerMethodField()
    parts = serializers.DictField(child=serializers.CharField())
    details = serializers.DictField()

    class Meta:
        model = SampleResult
        fields = [
            "uid",
            "slices",
            "method",
            "value",
            "correct",
            "chosen",
            "parts",
            "details",
            "item",
        ]

    def _benchmark(self, sample: SampleResult) -> BenchmarkDefinition:
        return declaration(sample.item.release)

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "string"}, "example": {"nation": "us"}}
    )
    def get_slices(self, sample: SampleResult) -> dict[str, str]:
        return item_slices(self._benchmark(sample), sample.item)

    @extend_schema_field({"type": "object", "description": "The item's declared fields."})
    def get_item(self, sample: SampleResult) -> dict[str, Any]:
        return item_values(self._benchmark(sample), sample.item)


class SubmissionThrottle(UserRateThrottle):
    scope = "submissions"


class ModelViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[LanguageModel]):
    """Registered models. POST submits one (token auth) and queues its evaluation."""

    queryset = LanguageModel.objects.select_related("base_model").order_by("name", "id")
    serializer_class = LanguageModelSerializer
    filterset_fields = ["model_type", "precision", "family", "is_demo"]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def get_throttles(self) -> list[Any]:
        if self.action == "create":
            return [SubmissionThrottle()]
        return super().get_throttles()

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return SubmissionSerializer if self.action == "create" else LanguageModelSerializer

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description=(
            "The model's disparity per benchmark (its current release), method and slice "
            "dimension: best minus worst ranked slice on the primary metric with a 95% "
            "interval, and the slices furthest below its own mean (see each benchmark's "
            "methodology page)."
        ),
    )
    @action(detail=True, methods=["get"])
    def disparity(self, request: Request, pk: str | None = None) -> Response:
        model = self.get_object()
        return Response({"model": model.pk, "benchmarks": latest_for_model(model)})

    @extend_schema(request=SubmissionSerializer, responses={201: SubmittedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SubmissionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            jobs = submit(Submission(**incoming.validated_data), request.user)
        except SubmissionError as exc:
            field = exc.field or "non_field_errors"
            return Response({field: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        submitted = SubmittedSerializer({"model": jobs[0].model, "jobs": jobs})
        return Response(submitted.data, status=status.HTTP_201_CREATED)


class JobFilter(filters.FilterSet):
    release = filters.CharFilter(field_name="release__version")
    benchmark = filters.CharFilter(field_name="release__benchmark__slug", label="Benchmark slug")

    class Meta:
        model = EvaluationJob
        fields = ["model", "status", "release", "benchmark", "kind"]


class JobViewSet(viewsets.ReadOnlyModelViewSet[EvaluationJob]):
    queryset = (
        EvaluationJob.objects.select_related("model", "model__base_model", "release")
        .prefetch_related("events")
        .order_by("-created_at", "-id")
    )
    serializer_class = JobSerializer
    filterset_class = JobFilter

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        if not can_manage(request.user, job):
            return Response({"detail": "Only the submitter or staff can cancel."}, status=403)
        lifecycle.cancel(job, by=request.user.get_username())
        job.refresh_from_db()
        return Response(JobSerializer(job).data)


class SliceFilterSet(filters.FilterSet):
    """Also filters by any declared slice dimension named in the query (`?nation=us`)."""

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        for benchmark in all_benchmarks():
            for dimension in benchmark.slices:
                value = self.data.get(dimension.key)
                if value:
                    queryset = queryset.filter(self.slice_q(benchmark, {dimension.key: value}))
        return queryset

    def slice_q(self, benchmark: BenchmarkDefinition, selected: dict[str, str]) -> Q:
        raise NotImplementedError


class ScoreFilter(SliceFilterSet):
    release = filters.CharFilter(field_name="job__release__version")
    benchmark = filters.CharFilter(
        field_name="job__release__benchmark__slug", label="Benchmark slug"
    )
    model = filters.NumberFilter(field_name="job__model")

    class Meta:
        model = Score
        fields = ["job", "method", "metric", "release", "benchmark", "model"]

    def slice_q(self, benchmark: BenchmarkDefinition, selected: dict[str, str]) -> Q:
        return Q(**{f"slices__{key}": value for key, value in selected.items()})


class ScoreViewSet(viewsets.ReadOnlyModelViewSet[Score]):
    """Scores per slice cell x method x metric; filter by `job`, `model`, `release`,
    `benchmark`, `method`, `metric` (as /api/benchmarks/<slug>/ declares them) and any slice
    dimension (`?nation=us&mode=quoted`)."""

    queryset = Score.objects.order_by("job_id", "id")
    serializer_class = ScoreSerializer
    filterset_class = ScoreFilter


class SampleFilter(SliceFilterSet):
    topic = filters.CharFilter(field_name="item__data__topic", lookup_expr="iexact")
    uid = filters.CharFilter(field_name="item__uid")
    model = filters.NumberFilter(field_name="job__model")
    benchmark = filters.CharFilter(
        field_name="job__release__benchmark__slug", label="Benchmark slug"
    )

    class Meta:
        model = SampleResult
        fields = ["job", "model", "method", "correct", "topic", "uid", "benchmark"]

    def slice_q(self, benchmark: BenchmarkDefinition, selected: dict[str, str]) -> Q:
        return item_slice_q(benchmark, selected, prefix="item__")


class JobSampleViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[SampleResult]):
    """Per-example results: filter by `job` (or `model`), slice dimension, topic, correct.

    A list only: a result has no id of its own (its key is job, item and method, which the
    filters select)."""

    queryset = SampleResult.objects.select_related("item", "item__release__benchmark").order_by(
        "job_id", "item_id", "method"
    )
    serializer_class = SampleSerializer
    filterset_class = SampleFilter
    # Named: DRF's default list reads every class attribute, and a composite key's fails.
    ordering_fields = ["method", "value", "correct", "chosen"]

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        if page is not None:  # the long part of the page's rows, one read per job
            sample_details.attach(page)
        return page
