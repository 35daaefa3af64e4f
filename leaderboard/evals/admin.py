from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from evaluation.results import SCORE_FIELDS
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import lifecycle
from leaderboard.evals.models import (
    AlignmentJob,
    EvaluationJob,
    JobEvent,
    LanguageModel,
    ModelType,
    Provider,
    Score,
)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin[Provider]):
    """Staff register the APIs served models run on; the key stays on the workers."""

    list_display = [
        "name",
        "api_kind",
        "base_url",
        "key_secret",
        "concurrency",
        "requests_per_minute",
        "budget_usd",
        "accepts_submissions",
    ]
    list_filter = ["api_kind", "accepts_submissions"]
    search_fields = ["name", "base_url"]


@admin.register(LanguageModel)
class LanguageModelAdmin(admin.ModelAdmin[LanguageModel]):
    list_display = [
        "name",
        "revision",
        "precision",
        "model_type",
        "params_billions",
        "submitter",
        "created_at",
    ]
    list_filter = ["model_type", "precision", "is_demo"]
    search_fields = ["name", "family"]
    raw_id_fields = ["submitter", "base_model"]
    list_select_related = ["provider"]
    actions = ["evaluate_on_current_release"]

    def save_model(
        self, request: HttpRequest, obj: LanguageModel, form: object, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        release = DatasetRelease.objects.current()
        if not change and release is not None:
            # Registering a model in the admin queues it like a form submission.
            lifecycle.create_job(
                obj, release, requested_by=request.user, reason="Registered in admin"
            )

    @admin.action(description="Evaluate on the current published release")
    def evaluate_on_current_release(
        self, request: HttpRequest, queryset: QuerySet[LanguageModel]
    ) -> None:
        release = DatasetRelease.objects.current()
        if release is None:
            self.message_user(request, "No published release.", messages.ERROR)
            return
        queued = 0
        for model in queryset:
            if model.model_type == ModelType.ALIGNED:
                self.message_user(
                    request,
                    f"{model} is aligned: only its held-out evaluation applies.",
                    messages.WARNING,
                )
                continue
            try:
                lifecycle.create_job(
                    model, release, requested_by=request.user, reason="Queued from admin"
                )
                queued += 1
            except lifecycle.JobConflict as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"Queued {queued} job(s).")


class JobEventInline(admin.TabularInline[JobEvent, EvaluationJob]):
    model = JobEvent
    extra = 0
    readonly_fields = ["at", "status", "message"]
    can_delete = False


class ScoreInline(admin.TabularInline[Score, EvaluationJob]):
    model = Score
    extra = 0
    readonly_fields = ["slice_key", *SCORE_FIELDS]
    can_delete = False


@admin.register(EvaluationJob)
class EvaluationJobAdmin(admin.ModelAdmin[EvaluationJob]):
    list_display = [
        "id",
        "kind",
        "model",
        "release",
        "attempt",
        "status",
        "failure_kind",
        "worker_host",
        "created_at",
    ]
    list_filter = ["kind", "status", "failure_kind", "release"]
    search_fields = ["model__name", "celery_task_id", "worker_host"]
    raw_id_fields = ["model", "requested_by", "produced_model"]
    readonly_fields = ["celery_task_id", "heartbeat_at", "repro_card", "log_tail"]
    inlines = [JobEventInline, ScoreInline]
    actions = ["cancel_jobs"]

    @admin.action(description="Cancel selected jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[EvaluationJob]) -> None:
        n = sum(lifecycle.cancel(job, by=request.user.get_username()) for job in queryset)
        self.message_user(request, f"Cancelled {n} job(s).")


@admin.register(AlignmentJob)
class AlignmentJobAdmin(EvaluationJobAdmin):
    list_display = ["id", "model", "target", "release", "status", "produced_model", "created_at"]
    list_filter = ["status", "release"]
    inlines = [JobEventInline]

    @admin.display(description="Toward")
    def target(self, job: AlignmentJob) -> str:
        return job.alignment_label
