import json
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from leaderboard.benchmark.importer import release_fingerprint
from leaderboard.benchmark.models import DatasetRelease, Mode, Nation, Triple
from leaderboard.benchmark.search import refresh_search_documents


@admin.register(Nation)
class NationAdmin(admin.ModelAdmin[Nation]):
    list_display = ["code", "name", "release_folder", "languages", "sort_order"]
    search_fields = ["code", "name"]


@admin.register(Mode)
class ModeAdmin(admin.ModelAdmin[Mode]):
    list_display = ["code", "name", "release_filename", "sort_order"]
    search_fields = ["code", "name"]


@admin.register(DatasetRelease)
class DatasetReleaseAdmin(admin.ModelAdmin[DatasetRelease]):
    list_display = [
        "version",
        "title",
        "status",
        "source",
        "is_demo",
        "triple_count",
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
        return super().get_queryset(request).annotate(n_triples=Count("triples"))

    @admin.display(description="Triples", ordering="n_triples")
    def triple_count(self, release: Any) -> int:
        return int(release.n_triples)

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


@admin.register(Triple)
class TripleAdmin(admin.ModelAdmin[Triple]):
    list_display = ["uid", "release", "nation", "mode", "topic", "language", "short_question"]
    list_filter = ["release", "nation", "mode", "language"]
    search_fields = ["uid", "question", "statement"]
    list_select_related = ["release", "nation", "mode"]
    autocomplete_fields = ["release"]
    # Counting a large filtered table on every page view is slow and rarely needed.
    show_full_result_count = False

    @admin.display(description="Question")
    def short_question(self, triple: Triple) -> str:
        return triple.question[:100]

    def save_model(self, request: HttpRequest, obj: Triple, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Full-text search reads a stored vector; keep it in step with hand edits.
        refresh_search_documents(Triple.objects.filter(pk=obj.pk))
        # The release's content checksum keys its download files and harness directory: a new
        # one makes both rebuild, so no download or evaluation serves the text before the edit.
        fingerprint = release_fingerprint(obj.release)
        with transaction.atomic():  # the same lock export builds take on the manifest
            release = DatasetRelease.objects.select_for_update().get(pk=obj.release_id)
            release.manifest = {**release.manifest, "content_sha256": fingerprint}
            release.save(update_fields=["manifest"])
