"""Read-only API for the benchmark data: benchmarks (their slices), releases and items (and
NaVAB's nations and modes, as before)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from evaluation.benchmarks import get_benchmark
from leaderboard.benchmark.exports import FORMATS
from leaderboard.benchmark.filters import ItemFilterBase, item_filter_class
from leaderboard.benchmark.models import Benchmark, DatasetRelease, Item, Mode, Nation
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
        slug = release.benchmark.slug
        return {
            fmt: reverse("download-release", args=[slug, release.version, fmt]) for fmt in FORMATS
        }


class ItemSerializer(serializers.ModelSerializer[Item]):
    """An item as its benchmark declares it: uid, release, one key per slice dimension, then
    the declared fields (the exported ones in lists; every one on a single item)."""

    release: serializers.SlugRelatedField[DatasetRelease] = serializers.SlugRelatedField(
        slug_field="version", read_only=True
    )
    url = serializers.SerializerMethodField()
    detailed = False

    class Meta:
        model = Item
        fields = ["id", "uid", "release", "url"]

    def get_url(self, item: Item) -> str:
        return item.get_absolute_url()

    def to_representation(self, instance: Item) -> dict[str, Any]:
        base = super().to_representation(instance)
        benchmark = get_benchmark(instance.release.benchmark.slug)
        out: dict[str, Any] = {"id": base["id"], "uid": base["uid"], "release": base["release"]}
        out.update({d.key: instance.slices.get(d.key, "") for d in benchmark.slices})
        slice_fields = {d.field for d in benchmark.slices}
        for field in benchmark.content_fields():
            if field.name not in slice_fields and (field.exported or self.detailed):
                out[field.name] = instance.data.get(field.name)
        if self.detailed:
            out.update(source_file=instance.source_file, source_index=instance.source_index)
        out["url"] = base["url"]
        return out


class ItemDetailSerializer(ItemSerializer):
    """Adds the provenance fields that lists leave out to stay small."""

    detailed = True


class BenchmarkSerializer(serializers.ModelSerializer[Benchmark]):
    """A benchmark with its declared slices (and their values' labels), methods and fields."""

    class Meta:
        model = Benchmark
        fields = ["slug", "name", "description", "paper_url", "licence"]

    def to_representation(self, instance: Benchmark) -> dict[str, Any]:
        out: dict[str, Any] = super().to_representation(instance)
        declaration = get_benchmark(instance.slug)
        out["slices"] = [
            {
                "key": d.key,
                "label": d.label,
                "averaged": d.averaged,
                "values": [
                    {"code": code, "name": name, "scored": code not in d.unscored}
                    for code, name in d.value_labels.items()
                ],
            }
            for d in declaration.slices
        ]
        out["fields"] = [
            {"name": f.name, "label": f.label, "kind": f.kind, "exported": f.exported}
            for f in declaration.item_fields
        ]
        out["methods"] = [
            {"key": m.key, "label": m.label, "metrics": [x.key for x in m.metrics]}
            for m in declaration.methods
        ]
        return out


class NationViewSet(viewsets.ReadOnlyModelViewSet[Nation]):
    """The nations NaVAB covers."""

    queryset = Nation.objects.all()
    serializer_class = NationSerializer
    lookup_field = "code"


class BenchmarkViewSet(viewsets.ReadOnlyModelViewSet[Benchmark]):
    """The hosted benchmarks, with the slice dimensions and values their items are cut by."""

    queryset = Benchmark.objects.all()
    serializer_class = BenchmarkSerializer
    lookup_field = "slug"


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
            .annotate(n_triples=Count("items"))
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
class TripleViewSet(viewsets.ReadOnlyModelViewSet[Item]):
    ordering_fields = ["uid", "id"]

    @property
    def filterset_class(self) -> type[ItemFilterBase]:
        # Built from the registered benchmarks' declarations (see benchmark.filters).
        return item_filter_class()

    def get_serializer_class(self) -> type[ItemSerializer]:
        return ItemDetailSerializer if self.action == "retrieve" else ItemSerializer

    def get_queryset(self) -> QuerySet[Item]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no query
            return Item.objects.none()
        triples = Item.objects.filter(
            release__in=visible_releases(self.request.user)
        ).select_related("release", "release__benchmark")
        if self.action == "list" and not self.request.query_params.get("release"):
            current = DatasetRelease.objects.current()
            triples = triples.filter(release=current) if current else triples.none()
        return triples
