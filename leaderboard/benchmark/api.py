"""Read-only API for the benchmark data: nations, modes, releases and triples."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from leaderboard.benchmark.exports import FORMATS
from leaderboard.benchmark.filters import TripleFilter
from leaderboard.benchmark.models import DatasetRelease, Mode, Nation, Triple
from leaderboard.benchmark.visibility import visible_releases


class NationSerializer(serializers.ModelSerializer[Nation]):
    class Meta:
        model = Nation
        fields = ["code", "name", "languages"]


class ModeSerializer(serializers.ModelSerializer[Mode]):
    class Meta:
        model = Mode
        fields = ["code", "name", "description"]


class ReleaseSerializer(serializers.ModelSerializer[DatasetRelease]):
    n_triples = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = DatasetRelease
        fields = [
            "version",
            "title",
            "description",
            "status",
            "source",
            "is_demo",
            "license",
            "citation",
            "homepage",
            "manifest",
            "n_triples",
            "created_at",
            "published_at",
            "url",
            "downloads",
        ]

    def get_url(self, release: DatasetRelease) -> str:
        return release.get_absolute_url()

    def get_downloads(self, release: DatasetRelease) -> dict[str, str]:
        return {fmt: reverse("download-release", args=[release.version, fmt]) for fmt in FORMATS}


class TripleSerializer(serializers.ModelSerializer[Triple]):
    release: serializers.SlugRelatedField[DatasetRelease] = serializers.SlugRelatedField(
        slug_field="version", read_only=True
    )
    nation: serializers.SlugRelatedField[Nation] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    mode: serializers.SlugRelatedField[Mode] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Triple
        fields = [
            "id",
            "uid",
            "release",
            "nation",
            "mode",
            "question",
            "statement",
            "reverse_statement",
            "speaker",
            "full_source",
            "topic",
            "language",
            "news_excerpt",
            "url",
        ]

    def get_url(self, triple: Triple) -> str:
        return triple.get_absolute_url()


class TripleDetailSerializer(TripleSerializer):
    """Adds the provenance fields that lists leave out to stay small."""

    class Meta(TripleSerializer.Meta):
        fields = [
            *TripleSerializer.Meta.fields,
            "raw_generation",
            "filter_flag",
            "source_file",
            "source_index",
        ]


class NationViewSet(viewsets.ReadOnlyModelViewSet[Nation]):
    """The nations NaVAB covers."""

    queryset = Nation.objects.all()
    serializer_class = NationSerializer
    lookup_field = "code"


class ModeViewSet(viewsets.ReadOnlyModelViewSet[Mode]):
    """How a nation's stance is attested: `quoted` (named speaker) or `official`."""

    queryset = Mode.objects.all()
    serializer_class = ModeSerializer
    lookup_field = "code"


class ReleaseViewSet(viewsets.ReadOnlyModelViewSet[DatasetRelease]):
    """Dataset releases with their manifest (file checksums, counts); drafts are staff-only."""

    serializer_class = ReleaseSerializer
    lookup_field = "version"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_fields = ["status", "source", "is_demo"]
    ordering_fields = ["created_at", "published_at", "version"]

    def get_queryset(self) -> QuerySet[DatasetRelease]:
        return (
            visible_releases(self.request.user)
            .annotate(n_triples=Count("triples"))
            .order_by("-created_at")
        )


@extend_schema_view(
    list=extend_schema(
        description=(
            "Triples, filtered by nation, mode, topic, language and full-text search `q` "
            "(web-search syntax: quoted phrases, `-word`, `or`). Without `release`, the "
            "current published release is listed."
        )
    ),
    retrieve=extend_schema(description="One triple by id, with its raw generation."),
)
class TripleViewSet(viewsets.ReadOnlyModelViewSet[Triple]):
    filterset_class = TripleFilter
    ordering_fields = ["uid", "topic", "language", "id"]

    def get_serializer_class(self) -> type[TripleSerializer]:
        return TripleDetailSerializer if self.action == "retrieve" else TripleSerializer

    def get_queryset(self) -> QuerySet[Triple]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no query
            return Triple.objects.none()
        triples = Triple.objects.filter(
            release__in=visible_releases(self.request.user)
        ).select_related("release", "nation", "mode")
        if self.action == "list" and not self.request.query_params.get("release"):
            current = DatasetRelease.objects.current()
            triples = triples.filter(release=current) if current else triples.none()
        return triples
