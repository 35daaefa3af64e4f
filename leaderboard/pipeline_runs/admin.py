"""Operating pipeline runs: create, start/resume and cancel runs; approve screened topics.

The run admin is read-only apart from its actions: status and progress change only through the
workflow, so the log and the Celery task ids stay truthful. Topic decisions are recorded with
their reviewer and time, by action or by editing one topic.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from leaderboard.pipeline_runs import approvals, workflow
from leaderboard.pipeline_runs.models import Decision, PipelineRun, TopicApproval
from pipeline.config import ConfigError

LIVE_FIELDS = [
    "status",
    "current_stage",
    "stage_progress",
    "heartbeat_at",
    "failed_stage",
    "error",
    "output_release",
    "topics_link",
    "counts_pretty",
    "dropped_pretty",
    "log_pretty",
    "celery_task_ids",
    "config_pretty",
    "config_path",
    "run_dir",
    "created_by",
    "created_at",
    "queued_at",
    "started_at",
    "finished_at",
]


def _pretty(value: Any) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


def _start_runs(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, runs: QuerySet[PipelineRun]
) -> None:
    for run in runs:
        try:
            stages = workflow.start(run)
        except workflow.WorkflowError as exc:
            model_admin.message_user(request, str(exc), messages.WARNING)
        else:
            model_admin.message_user(
                request, f"{run}: queued {', '.join(stages)}.", messages.SUCCESS
            )


class PipelineRunCreationForm(forms.ModelForm[PipelineRun]):
    """A config file path or pasted TOML; the run directory may be moved for this run."""

    run_dir_override = forms.CharField(
        required=False,
        label="Run directory",
        help_text="Leave empty to use the config's run_dir.",
    )

    class Meta:
        model = PipelineRun
        fields = ["config_path", "config_text"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            workflow.prepare_new_run(
                self.instance,
                data.get("config_path", ""),
                data.get("config_text", ""),
                data.get("run_dir_override", ""),
            )
        except (ConfigError, OSError, workflow.WorkflowError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        # The form copies these onto the instance after clean(): give it the resolved values.
        data["config_path"] = self.instance.config_path
        data["config_text"] = self.instance.config_text
        return data


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin[PipelineRun]):
    list_display = [
        "id",
        "run_dir_name",
        "status",
        "stage_progress",
        "pending_topics",
        "output_release",
        "created_by",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["run_dir", "config_path"]
    actions = ["start_or_resume", "cancel_runs"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PipelineRun]:
        pending = Count("approvals", filter=Q(approvals__decision=Decision.PENDING))
        return (
            super()
            .get_queryset(request)
            .select_related("output_release", "created_by")
            .annotate(n_pending=pending)
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = PipelineRunCreationForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["config_path", "config_text", "run_dir_override"]
        return [*LIVE_FIELDS, "config_text"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else [*LIVE_FIELDS, "config_text"]

    def save_model(self, request: HttpRequest, obj: PipelineRun, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        if not change:
            PipelineRun.append_log(obj.pk, f"Created in the admin by {request.user.get_username()}")

    @admin.display(description="Run directory")
    def run_dir_name(self, run: PipelineRun) -> str:
        return run.run_dir.rsplit("/", 1)[-1]

    @admin.display(description="Progress")
    def stage_progress(self, run: PipelineRun) -> str:
        text = f"stage {run.stages_done}/{run.stages_total}"
        if run.current_stage:
            text += f", {run.current_stage} {run.progress_done}/{run.progress_total}"
        return text

    @admin.display(description="Pending topics", ordering="n_pending")
    def pending_topics(self, run: Any) -> int:
        return int(run.n_pending)

    @admin.display(description="Topic approvals")
    def topics_link(self, run: PipelineRun) -> str:
        url = reverse("admin:pipelines_topicapproval_changelist") + f"?run__id__exact={run.pk}"
        pending = approvals.pending_count(run)
        return format_html(
            '<a href="{}">{} topic(s), {} pending</a> · <a href="{}">live progress</a>',
            url,
            run.approvals.count(),
            pending,
            run.get_absolute_url(),
        )

    @admin.display(description="Counts per stage")
    def counts_pretty(self, run: PipelineRun) -> str:
        return _pretty(run.counts)

    @admin.display(description="Dropped, by reason")
    def dropped_pretty(self, run: PipelineRun) -> str:
        return _pretty(run.dropped)

    @admin.display(description="Config (resolved)")
    def config_pretty(self, run: PipelineRun) -> str:
        return _pretty(run.config)

    @admin.display(description="Log tail")
    def log_pretty(self, run: PipelineRun) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', run.log_tail)

    @admin.action(description="Start / resume selected runs")
    def start_or_resume(self, request: HttpRequest, queryset: QuerySet[PipelineRun]) -> None:
        _start_runs(self, request, queryset)

    @admin.action(description="Cancel selected runs")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[PipelineRun]) -> None:
        n = sum(workflow.cancel(run, by=request.user.get_username()) for run in queryset)
        self.message_user(request, f"Cancelled {n} run(s).")


@admin.register(TopicApproval)
class TopicApprovalAdmin(admin.ModelAdmin[TopicApproval]):
    list_display = [
        "topic_id",
        "run",
        "nation",
        "label",
        "proposed",
        "score",
        "decision",
        "reviewer",
        "decided_at",
    ]
    list_filter = ["decision", "proposed", "nation", "run"]
    search_fields = ["topic_id", "label", "reason"]
    list_select_related = ["run", "reviewer"]
    readonly_fields = [
        "run",
        "topic_id",
        "nation",
        "label",
        "keywords",
        "headlines",
        "proposed",
        "score",
        "reason",
        "reviewer",
        "decided_at",
    ]
    actions = ["approve_selected", "reject_selected", "accept_proposal", "resume_runs"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # topics come from a run's screening stage

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Past the approval gate a decision no longer changes what the run produced.
        if obj is not None and "approval" in obj.run.counts:
            return [*self.readonly_fields, "decision"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: TopicApproval, form: Any, change: bool) -> None:
        if "decision" in form.changed_data:
            obj.reviewer = request.user  # type: ignore[assignment]
            obj.decided_at = timezone.now()
        super().save_model(request, obj, form, change)

    def _decide(
        self, request: HttpRequest, rows: QuerySet[TopicApproval], decision: Decision
    ) -> int:
        recorded, refused = approvals.decide(rows, decision, request.user)
        if refused:
            self.message_user(
                request,
                f"{refused} topic(s) belong to runs past the approval stage; left unchanged.",
                messages.WARNING,
            )
        return recorded

    @admin.action(description="Approve selected topics")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[TopicApproval]) -> None:
        n = self._decide(request, queryset, Decision.APPROVED)
        self.message_user(request, f"Approved {n} topic(s).", messages.SUCCESS)

    @admin.action(description="Reject selected topics")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[TopicApproval]) -> None:
        n = self._decide(request, queryset, Decision.REJECTED)
        self.message_user(request, f"Rejected {n} topic(s).", messages.SUCCESS)

    @admin.action(description="Accept the screening's proposal for selected topics")
    def accept_proposal(self, request: HttpRequest, queryset: QuerySet[TopicApproval]) -> None:
        approved = self._decide(request, queryset.filter(proposed=True), Decision.APPROVED)
        rejected = self._decide(request, queryset.filter(proposed=False), Decision.REJECTED)
        self.message_user(
            request, f"Approved {approved} and rejected {rejected} topic(s).", messages.SUCCESS
        )

    @admin.action(description="Resume the runs of selected topics")
    def resume_runs(self, request: HttpRequest, queryset: QuerySet[TopicApproval]) -> None:
        _start_runs(self, request, PipelineRun.objects.filter(pk__in=queryset.values("run")))
