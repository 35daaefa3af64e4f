from django.contrib import admin

from leaderboard.boards.models import ReportedResult


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
