from django.contrib import admin
from django.http import HttpRequest

from leaderboard.boards.models import BoardSnapshot, ReportedResult


@admin.register(ReportedResult)
class ReportedResultAdmin(admin.ModelAdmin[ReportedResult]):
    """Staff add and correct the publishers' figures; each keeps its source."""

    list_display = [
        "model_name",
        "benchmark",
        "release_name",
        "method",
        "slice_key",
        "source_table",
    ]
    list_filter = ["benchmark", "method", "comparable"]
    search_fields = ["model_name", "release_name", "source_paper", "note"]
    raw_id_fields = ["site_model"]


@admin.register(BoardSnapshot)
class BoardSnapshotAdmin(admin.ModelAdmin[BoardSnapshot]):
    """Listed for staff; frozen from the board page, and never edited or deleted here: a cited
    address must keep working."""

    list_display = ["title", "benchmark", "release", "created_at", "created_by"]
    list_filter = ["benchmark"]
    search_fields = ["title", "slug", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
