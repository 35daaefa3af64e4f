"""API for models, jobs, scores and per-example results; submissions need a token."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from evaluation.model_check import (
    SUBMITTED_NAME,
    SUBMITTED_NAME_MAX_LENGTH,
    SUBMITTED_NAME_MESSAGE,
)
from leaderboard.benchmark.models import DatasetRelease, Mode, Nation
from leaderboard.evals import lifecycle
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
            "base_model",
            "is_demo",
            "created_at",
            "url",
        ]

    def get_url(self, obj: LanguageModel) -> str:
        return obj.get_absolute_url()


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


class JobEventSerializer(serializers.ModelSerializer[JobEvent]):
    class Meta:
        model = JobEvent
        fields = ["at", "status", "message"]


class ScoreSerializer(serializers.ModelSerializer[Score]):
    nation: serializers.SlugRelatedField[Nation] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    mode: serializers.SlugRelatedField[Mode] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Score
        fields = [
            "job",
            "nation",
            "mode",
            "method",
            "value",
            "n",
            "stderr",
            "ci_low",
            "ci_high",
            "pos_rate",
            "neg_rate",
        ]


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
            "repro_card",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
            "events",
        ]


class SampleSerializer(serializers.ModelSerializer[SampleResult]):
    uid = serializers.CharField(source="triple.uid", read_only=True)
    nation = serializers.CharField(source="triple.slices.nation", read_only=True)
    mode = serializers.CharField(source="triple.slices.mode", read_only=True)
    topic = serializers.CharField(source="triple.data.topic", read_only=True)
    question = serializers.CharField(source="triple.data.question", read_only=True)
    statement = serializers.CharField(source="triple.data.statement", read_only=True)
    reverse_statement = serializers.CharField(
        source="triple.data.reverse_statement", read_only=True
    )

    class Meta:
        model = SampleResult
        fields = [
            "uid",
            "nation",
            "mode",
            "topic",
            "method",
            "statement_is_a",
            "chosen",
            "correct",
            "loglikelihoods",
            "answer",
            "question",
            "statement",
            "reverse_statement",
        ]


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

    @extend_schema(request=SubmissionSerializer, responses={201: JobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SubmissionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            job = submit(Submission(**incoming.validated_data), request.user)
        except SubmissionError as exc:
            field = exc.field or "non_field_errors"
            return Response({field: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class JobFilter(filters.FilterSet):
    release = filters.CharFilter(field_name="release__version")

    class Meta:
        model = EvaluationJob
        fields = ["model", "status", "release", "kind"]


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


class ScoreFilter(filters.FilterSet):
    release = filters.CharFilter(field_name="job__release__version")
    nation = filters.CharFilter(field_name="nation__code")
    mode = filters.CharFilter(field_name="mode__code")
    model = filters.NumberFilter(field_name="job__model")

    class Meta:
        model = Score
        fields = ["job", "method", "release", "nation", "mode", "model"]


class ScoreViewSet(viewsets.ReadOnlyModelViewSet[Score]):
    queryset = Score.objects.select_related("nation", "mode").order_by("job_id", "id")
    serializer_class = ScoreSerializer
    filterset_class = ScoreFilter


class SampleFilter(filters.FilterSet):
    nation = filters.CharFilter(method="filter_slice")
    mode = filters.CharFilter(method="filter_slice")
    topic = filters.CharFilter(field_name="triple__data__topic", lookup_expr="iexact")
    uid = filters.CharFilter(field_name="triple__uid")
    model = filters.NumberFilter(field_name="job__model")

    class Meta:
        model = SampleResult
        fields = ["job", "model", "method", "correct", "nation", "mode", "topic", "uid"]

    def filter_slice(
        self, queryset: QuerySet[SampleResult], name: str, value: str
    ) -> QuerySet[SampleResult]:
        return queryset.filter(
            triple__slice_values__dimension=name, triple__slice_values__value=value
        )


class JobSampleViewSet(viewsets.ReadOnlyModelViewSet[SampleResult]):
    """Per-example results: filter by `job` (or `model`), nation, mode, topic, correct."""

    queryset = SampleResult.objects.select_related("triple").order_by("id")
    serializer_class = SampleSerializer
    filterset_class = SampleFilter
