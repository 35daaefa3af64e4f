"""The benchmarks' data: benchmarks, dataset releases and their items."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Benchmark(models.Model):
    """A hosted benchmark, as its declaration in `evaluation.benchmarks` describes it.

    The rows are written from the registry (see `benchmark.registry_sync`); the declaration
    stays the source of truth for fields, slices and metrics, these columns are what pages
    link, filter and cite by.
    """

    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    paper_title = models.CharField(max_length=300, blank=True)
    paper_url = models.URLField(blank=True)
    # Blank where the publisher states none: the operator states one per release at import.
    licence = models.CharField(max_length=64, blank=True)
    citation = models.TextField(blank=True, help_text="BibTeX.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "slug"]

    def __str__(self) -> str:
        return self.name


class ReleaseQuerySet(models.QuerySet["DatasetRelease"]):
    def published(self) -> ReleaseQuerySet:
        return self.filter(status=DatasetRelease.Status.PUBLISHED)

    def current(self) -> DatasetRelease | None:
        """The newest published release: the one the board evaluates against."""
        return self.published().order_by("-published_at", "-id").first()


class DatasetRelease(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class Source(models.TextChoices):
        IMPORTED = "imported", "Imported"
        PIPELINE = "pipeline", "Pipeline run"
        DEMO = "demo", "Demo data"

    benchmark = models.ForeignKey(Benchmark, on_delete=models.PROTECT, related_name="releases")
    version = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.IMPORTED)
    is_demo = models.BooleanField(
        default=False, help_text="Hand-written sample data, not the NaVAB release."
    )
    license = models.CharField(max_length=64, default="apache-2.0")
    citation = models.TextField(blank=True)
    homepage = models.URLField(blank=True)
    # {"files": {name: {"sha256", "bytes", "records", ...}}, "counts": {"us/quoted": n, ...},
    #  "exports": {format: {"path", "sha256", "bytes"}}, "rejected": n}
    manifest = models.JSONField(default=dict, blank=True)
    # The values of each filterable field with their item counts (see benchmark.facets),
    # written with the items so that no page scans them for its dropdowns.
    facets = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.version

    def get_absolute_url(self) -> str:
        return reverse("release-detail", args=[self.benchmark.slug, self.version])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def record_origin(self, origin: dict[str, str]) -> None:
        """Record where the release's files were downloaded from (hub repository, commit) on
        its card; the homepage points there unless one was given."""
        manifest = self.manifest if isinstance(self.manifest, dict) else {}
        self.manifest = {**manifest, "origin": origin}
        self.homepage = self.homepage or origin.get("url", "")
        self.save(update_fields=["manifest", "homepage"])

    def publish(self) -> None:
        """Publish, then (after commit) let listeners queue re-evaluation on this release."""
        from leaderboard.catalog.signals import release_published

        if self.is_published:
            return
        self.status = self.Status.PUBLISHED
        self.published_at = timezone.now()
        self.save(update_fields=["status", "published_at"])
        release_published.send(sender=DatasetRelease, release=self)


class ItemQuerySet(models.QuerySet["Item"]):
    def in_slice(self, dimension: str, value: str) -> ItemQuerySet:
        """Items whose value on DIMENSION is VALUE, through the indexed ItemSlice rows (each
        call joins them once more, so several dimensions narrow together)."""
        return self.filter(slice_values__dimension=dimension, slice_values__value=value)

    def for_export(self) -> ItemQuerySet:
        # Import order: the reader's nation and mode order, then the file's.
        return self.select_related("release").order_by("id")


class Item(models.Model):
    """One benchmark item: its slice values and the fields its benchmark declares (for NaVAB a
    question, the nation's statement and its reverse)."""

    release = models.ForeignKey(DatasetRelease, on_delete=models.CASCADE, related_name="items")
    uid = models.CharField(max_length=32, db_index=True)
    # {dimension key: value} for each of the benchmark's slice dimensions, e.g.
    # {"nation": "us", "mode": "quoted"}; filtering reads the ItemSlice rows written beside it.
    slices = models.JSONField(default=dict)
    # The declared item fields but uid and slices (see BenchmarkDefinition.content_fields).
    data = models.JSONField(default=dict)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Keys of the source record the importer does not know."
    )
    source_file = models.CharField(max_length=255, blank=True)
    source_index = models.PositiveIntegerField(null=True, blank=True)
    # Filled on PostgreSQL only (see catalog.search); a GIN index is created by migration.
    search_document = SearchVectorField(null=True, editable=False)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            # The database name from before items were generic, kept so no migration rebuilds
            # the index of a deployed table.
            models.UniqueConstraint(fields=["release", "uid"], name="unique_triple_uid_per_release")
        ]

    def __str__(self) -> str:
        first = next((v for v in self.data.values() if isinstance(v, str) and v), "")
        return f"{self.uid}: {first[:60]}"

    def get_absolute_url(self) -> str:
        release = self.release
        return reverse("item-detail", args=[release.benchmark.slug, release.version, self.uid])

    @property
    def slice_summary(self) -> str:
        """The item's slice values as its benchmark labels them, e.g. "China · Quoted
        statements" (load `release__benchmark` with the items shown)."""
        from evaluation.benchmarks import get_benchmark

        benchmark = get_benchmark(self.release.benchmark.slug)
        return " · ".join(d.label_of(self.slices.get(d.key, "")) for d in benchmark.slices)


class ItemSlice(models.Model):
    """An item's value on one slice dimension, one row each, so that filtering by a slice is
    an index lookup on every database (JSON containment has no index on SQLite)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="slice_values")
    dimension = models.CharField(max_length=32)
    value = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "dimension"], name="one_value_per_dimension")
        ]
        indexes = [models.Index(fields=["dimension", "value", "item"], name="item_slice_lookup")]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value}"
