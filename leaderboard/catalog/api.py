"""Read-only API for the benchmark data: benchmarks (their declarations), and each one's
releases and items under `/api/benchmarks/<slug>/`; NaVAB's nations, modes, releases and
triples stay at their old addresses."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from evaluation.benchmarks.navab import MODES, NATIONS
from leaderboard.api import declaration as declared
from leaderboard.catalog.exports import FORMATS
from leaderboard.catalog.filters import ItemFilterBase, item_filter_class
from leaderboard.catalog.models import Benchmark, DatasetRelease, Item
from leaderboard.catalog.scoping import (
    BENCHMARK_PARAMETER,
    BENCHMARK_RESOURCES,
    LEGACY_BENCHMARK,
    NO_BENCHMARK_PARAMETER,
    BenchmarkScoped,
    legacy_note,
)
from leaderboard.catalog.visibility import visible_releases


class NationSerializer(serializers.Serializer[Any]):
    """One of NaVAB's declared nations (`evaluation.benchmarks.navab.NATIONS`)."""

    code = serializers.CharField()
    name = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())


class ModeSerializer(serializers.Serializer[Any]):
    """One of NaVAB's declared modes (`evaluation.benchmarks.navab.MODES`)."""

    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class ReleaseSerializer(serializers.ModelSerializer[DatasetRelease]):
    benchmark: serializers.SlugRelatedField[Benchmark] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    n_items = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = DatasetRelease
        fields = [
            "benchmark",
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
            "n_items",
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


class LegacyReleaseSerializer(ReleaseSerializer):
    """Today's clients of `/api/releases/` read the item count as `n_triples`."""

    n_triples = serializers.IntegerField(source="n_items", read_only=True)

    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "n_triples"]


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
    """A benchmark with its declaration (slice dimensions and their labelled values, item
    fields, methods and metrics) and the addresses of its releases, items and board."""

    slices = serializers.SerializerMethodField()
    item_fields = serializers.SerializerMethodField()
    methods = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()
    # Blank on the row where the publisher states none (DiverValue-Bench): said, not left "".
    licence = serializers.SerializerMethodField()
    licence_note = serializers.SerializerMethodField()

    class Meta:
        model = Benchmark
        fields = [
            "slug",
            "name",
            "description",
            "paper_title",
            "paper_url",
            "licence",
            "licence_note",
            "citation",
            "slices",
            "item_fields",
            "methods",
            "links",
        ]

    @extend_schema_field(declared.SLICES_SCHEMA)
    def get_slices(self, benchmark: Benchmark) -> list[dict[str, Any]]:
        return declared.slices(get_benchmark(benchmark.slug))

    @extend_schema_field(declared.ITEM_FIELDS_SCHEMA)
    def get_item_fields(self, benchmark: Benchmark) -> list[dict[str, Any]]:
        return declared.item_fields(get_benchmark(benchmark.slug))

    @extend_schema_field(declared.METHODS_SCHEMA)
    def get_methods(self, benchmark: Benchmark) -> list[dict[str, Any]]:
        return declared.methods(get_benchmark(benchmark.slug))

    @extend_schema_field(
        {
            "type": "object",
            "properties": {key: {"type": "string"} for key in BENCHMARK_RESOURCES},
        }
    )
    def get_links(self, benchmark: Benchmark) -> dict[str, str]:
        return benchmark_links(benchmark.slug)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_licence(self, benchmark: Benchmark) -> str | None:
        return benchmark.licence or None

    @extend_schema_field({"type": "string"})
    def get_licence_note(self, benchmark: Benchmark) -> str:
        if benchmark.licence:
            return "The publisher's licence; each release states its own (its `license`)."
        return (
            "The publisher states no licence for this benchmark's data: each release states "
            "the licence it was imported under (its `license`)."
        )


def benchmark_links(slug: str) -> dict[str, str]:
    """The addresses of what a benchmark has under its own address."""
    return {key: f"/api/benchmarks/{slug}/{key}/" for key in BENCHMARK_RESOURCES}


SLICES_NOTE = (
    f"every benchmark's slice dimensions and values are listed with it, e.g. at "
    f"`/api/benchmarks/{LEGACY_BENCHMARK}/`."
)


class DeclaredValues(mixins.ListModelMixin, viewsets.GenericViewSet[Any]):
    """Values NaVAB declares, read-only at the addresses its clients know, in the shape the
    viewsets over their former tables gave (a paginated list, one value by code)."""

    #: the declared values, in their declared order
    values: tuple[Any, ...] = ()
    noun = ""
    lookup_field = "code"
    # A few constants: nothing to filter or order in the database.
    filter_backends = ()

    def get_queryset(self) -> Any:
        return list(self.values)

    def retrieve(self, request: Request, code: str) -> Response:
        for value in self.values:
            if value.code == code:
                return Response(self.get_serializer(value).data)
        raise NotFound(f"No {self.noun} matches the given query.")


@extend_schema_view(
    list=extend_schema(description=f"NaVAB's nations; {SLICES_NOTE}"),
    retrieve=extend_schema(description="One of NaVAB's nations, with its languages."),
)
class NationViewSet(DeclaredValues):
    """The nations NaVAB covers."""

    values = NATIONS
    noun = "Nation"
    serializer_class = NationSerializer


class BenchmarkViewSet(viewsets.ReadOnlyModelViewSet[Benchmark]):
    """The hosted benchmarks, as declared: slice dimensions and their values, item fields,
    methods and metrics. Each one's releases, items and board are under its own address."""

    serializer_class = BenchmarkSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Benchmark]:
        # A row outlives its benchmark's removal from the registry; without a declaration
        # there is nothing to serve.
        return Benchmark.objects.filter(slug__in=benchmark_slugs())


@extend_schema_view(
    list=extend_schema(description=f"NaVAB's modes; {SLICES_NOTE}"),
    retrieve=extend_schema(description="One of NaVAB's modes."),
)
class ModeViewSet(DeclaredValues):
    """How a nation's stance is attested: `quoted` (named speaker) or `official`."""

    values = MODES
    noun = "Mode"
    serializer_class = ModeSerializer


@extend_schema(parameters=[BENCHMARK_PARAMETER])
@extend_schema_view(
    list=extend_schema(description="The benchmark's releases, newest first."),
    retrieve=extend_schema(description="One of the benchmark's releases."),
)
class ReleaseViewSet(BenchmarkScoped, viewsets.ReadOnlyModelViewSet[DatasetRelease]):
    """Dataset releases with their manifest (file checksums, counts); drafts are staff-only."""

    serializer_class: type[ReleaseSerializer] = ReleaseSerializer
    lookup_field = "version"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_fields = ["status", "source", "is_demo"]
    ordering_fields = ["created_at", "published_at", "version"]

    def get_queryset(self) -> QuerySet[DatasetRelease]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no benchmark
            return DatasetRelease.objects.none()
        return (
            visible_releases(self.request.user)
            .filter(benchmark=self.benchmark_row())
            .select_related("benchmark")
            .annotate(n_items=Count("items"))
            .order_by("-created_at")
        )


@extend_schema(parameters=[NO_BENCHMARK_PARAMETER])
@extend_schema_view(
    list=extend_schema(description=f"NaVAB's releases. {legacy_note('releases/')}"),
    retrieve=extend_schema(description=f"One NaVAB release. {legacy_note('releases/{version}/')}"),
)
class LegacyReleaseViewSet(ReleaseViewSet):
    fixed_benchmark = LEGACY_BENCHMARK
    serializer_class = LegacyReleaseSerializer


ITEM_LIST = (
    "Items, filtered by the slice dimensions and short fields the benchmark declares (its "
    "entry in /api/benchmarks/ lists them; parameters another benchmark declares are "
    "ignored) and full-text search `q` (web-search syntax: quoted phrases, `-word`, `or`). "
    "Without `release`, the benchmark's current published release is listed."
)


@extend_schema(parameters=[BENCHMARK_PARAMETER])
@extend_schema_view(
    list=extend_schema(description=ITEM_LIST),
    retrieve=extend_schema(description="One item by id, with its provenance fields."),
)
class ItemViewSet(BenchmarkScoped, viewsets.ReadOnlyModelViewSet[Item]):
    """A benchmark's items, with the fields its declaration names."""

    ordering_fields = ["uid", "id"]

    @property
    def filterset_class(self) -> type[ItemFilterBase]:
        # Built from the declaration (see benchmark.filters); while the schema is generated
        # there is no benchmark, and every registered one's parameters are documented.
        return item_filter_class(self.benchmark_slug)

    def get_serializer_class(self) -> type[ItemSerializer]:
        return ItemDetailSerializer if self.action == "retrieve" else ItemSerializer

    def get_queryset(self) -> QuerySet[Item]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no query
            return Item.objects.none()
        releases = visible_releases(self.request.user).filter(benchmark=self.benchmark_row())
        items = Item.objects.filter(release__in=releases).select_related(
            "release", "release__benchmark"
        )
        if self.action == "list" and not self.request.query_params.get("release"):
            current = releases.current()
            items = items.filter(release=current) if current else items.none()
        return items


@extend_schema(parameters=[NO_BENCHMARK_PARAMETER])
@extend_schema_view(
    list=extend_schema(description=f"NaVAB's triples. {legacy_note('items/')}"),
    retrieve=extend_schema(description=f"One NaVAB triple. {legacy_note('items/{id}/')}"),
)
class LegacyItemViewSet(ItemViewSet):
    fixed_benchmark = LEGACY_BENCHMARK
