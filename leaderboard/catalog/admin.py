import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.facets import refresh_facets
from leaderboard.catalog.importer import release_fingerprint
from leaderboard.catalog.models import DatasetRelease, Item, ItemSlice
from leaderboard.catalog.search import refresh_search_documents
from leaderboard.catalog.slices import index_slices


@admin.register(DatasetRelease)
class DatasetReleaseAdmin(admin.ModelAdmin[DatasetRelease]):
    list_display = [
        "version",
        "title",
        "status",
        "source",
        "is_demo",
        "item_count",
        "published_at",
    ]
    list_filter = ["status", "source", "is_demo"]
    search_fields = ["version", "title"]
    # Status changes only through the publish action, so publishing always notifies listeners
    # (re-evaluation) and stamps published_at.
    readonly_fields = ["status", "published_at", "created_at", "manifest_pretty"]
    exclude = ["manifest"]
    actions = ["publish_releases"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DatasetRelease]:
        return super().get_queryset(request).annotate(n_items=Count("items"))

    @admin.display(description="Items", ordering="n_items")
    def item_count(self, release: Any) -> int:
        return int(release.n_items)

    @admin.display(description="Manifest")
    def manifest_pretty(self, release: DatasetRelease) -> str:
        text = json.dumps(release.manifest, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.action(description="Publish selected releases")
    def publish_releases(self, request: HttpRequest, queryset: QuerySet[DatasetRelease]) -> None:
        drafts = list(queryset.filter(status=DatasetRelease.Status.DRAFT))
        for release in drafts:
            release.publish()
        skipped = queryset.count() - len(drafts)
        self.message_user(request, f"Published {len(drafts)} release(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} release(s) that were already published.", messages.INFO
            )


class SliceFilter(admin.SimpleListFilter):
    """Items by one slice value ("nation=us"), through the indexed ItemSlice rows."""

    title = "slice"
    parameter_name = "slice"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        pairs = ItemSlice.objects.order_by("dimension", "value").values_list("dimension", "value")
        return [(f"{d}={v}", f"{d}: {v}") for d, v in pairs.distinct()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        dimension, _, value = (self.value() or "").partition("=")
        if not value:
            return queryset
        return queryset.filter(slice_values__dimension=dimension, slice_values__value=value)


class ItemForm(forms.ModelForm[Item]):
    """A hand edit keeps the item what its benchmark declares: a value on every slice
    dimension and every required field, as text."""

    class Meta:
        model = Item
        fields = ["release", "uid", "slices", "data", "extra", "source_file", "source_index"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        release = cleaned.get("release")
        if release is None:
            return cleaned
        declared = get_benchmark(release.benchmark.slug)
        slices, data = cleaned.get("slices"), cleaned.get("data")
        keys = [d.key for d in declared.slices]
        if not isinstance(slices, dict) or sorted(slices) != sorted(keys):
            self.add_error("slices", f"An object with exactly the keys {', '.join(keys)}.")
        elif not all(isinstance(v, str) and v.strip() for v in slices.values()):
            self.add_error("slices", "Every slice value is a non-empty string.")
        if not isinstance(data, dict):
            self.add_error("data", "An object of the item's fields.")
        else:
            missing = [
                f.name
                for f in declared.content_fields()
                if f.required and not (isinstance(data.get(f.name), str) and data[f.name].strip())
            ]
            if missing:
                self.add_error("data", f"Required field(s) missing or empty: {', '.join(missing)}.")
        return cleaned


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    form = ItemForm
    list_display = ["uid", "release", "slices", "short_data"]
    list_filter = ["release", SliceFilter]
    # The fields' text as stored (JSON): slow on a whole release, fine for finding an item.
    search_fields = ["uid", "data"]
    list_select_related = ["release"]
    autocomplete_fields = ["release"]
    # Counting a large filtered table on every page view is slow and rarely needed.
    show_full_result_count = False

    @admin.display(description="Content")
    def short_data(self, item: Item) -> str:
        return str(item)[:100]

    def save_model(self, request: HttpRequest, obj: Item, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        edited = Item.objects.filter(pk=obj.pk)
        # Filtering and full-text search read the slice rows and a stored vector; keep them in
        # step with hand edits.
        index_slices(Item, ItemSlice, edited)
        refresh_search_documents(edited, get_benchmark(obj.release.benchmark.slug))
        refresh_facets(DatasetRelease, Item, obj.release)
        # The release's content checksum keys its download files and harness directory: a new
        # one makes both rebuild, so no download or evaluation serves the text before the edit.
        fingerprint = release_fingerprint(obj.release)
        with transaction.atomic():  # the same lock export builds take on the manifest
            release = DatasetRelease.objects.select_for_update().get(pk=obj.release_id)
            release.manifest = {**release.manifest, "content_sha256": fingerprint}
            release.save(update_fields=["manifest"])
