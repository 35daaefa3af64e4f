"""Pipeline runs started from the site, and the operator's topic approvals for each run.

A run's files live in its run directory (the pipeline library's checkpoints); these rows hold
what the site shows and decides: status, progress, per-stage counts and drop reasons, the
recorded topic approvals, and the draft release the run produced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from leaderboard.catalog.models import DatasetRelease
from leaderboard.tracking import TrackedWork
from pipeline import STAGE_NAMES, PipelineConfig


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    WAITING_APPROVAL = "waiting_approval", "Waiting for topic approval"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: Statuses that hold the run directory: no second run may use it meanwhile.
ACTIVE_STATUSES = (
    RunStatus.PENDING,
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.WAITING_APPROVAL,
)
#: Statuses from which the operator may start or resume the workflow.
RESUMABLE_STATUSES = (
    RunStatus.PENDING,
    RunStatus.WAITING_APPROVAL,
    RunStatus.FAILED,
    RunStatus.CANCELLED,
)


class PipelineRun(TrackedWork):
    """One pipeline run over one run directory, as the site tracks it."""

    config_path = models.CharField(
        max_length=500, blank=True, help_text="The TOML/JSON config file the run was made from."
    )
    config_text = models.TextField(
        blank=True, help_text="The config as written (a snapshot of the file, or pasted TOML)."
    )
    # Resolved (absolute paths, defaults filled in): exactly what every worker runs.
    config = models.JSONField(default=dict, editable=False)
    run_dir = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING)
    current_stage = models.CharField(max_length=32, blank=True)
    # {stage: {name: n}} for every completed stage, and {stage: {reason: n}} for what it dropped.
    counts = models.JSONField(default=dict, blank=True)
    dropped = models.JSONField(default=dict, blank=True)
    # {stage: task id} of the workflow last sent; a delivery with another id is stale.
    celery_task_ids = models.JSONField(default=dict, blank=True)
    failed_stage = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    output_release = models.ForeignKey(
        DatasetRelease,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pipeline_runs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two live runs in one directory would overwrite each other's checkpoints.
            models.UniqueConstraint(
                fields=["run_dir"],
                condition=Q(status__in=[s.value for s in ACTIVE_STATUSES]),
                name="one_active_run_per_run_dir",
            )
        ]

    def __str__(self) -> str:
        return f"pipeline run {self.pk} ({Path(self.run_dir).name})"

    def get_absolute_url(self) -> str:
        return reverse("pipeline-run-detail", args=[self.pk])

    def pipeline_config(self) -> PipelineConfig:
        return PipelineConfig.from_dict(self.config)

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def can_resume(self) -> bool:
        return self.status in RESUMABLE_STATUSES

    def sent_stages(self) -> list[str]:
        """The stages of the last send, in run order (a JSON object's keys are unordered)."""
        return [name for name in STAGE_NAMES if name in self.celery_task_ids]

    @property
    def stages_done(self) -> int:
        return sum(1 for name in STAGE_NAMES if name in self.counts)

    @property
    def stages_total(self) -> int:
        return len(STAGE_NAMES)

    def stage_rows(self) -> list[dict[str, Any]]:
        """Per stage, in order: state, counts and drops, for the run page and its JSON."""
        rows = []
        for name in STAGE_NAMES:
            if name in self.counts:
                state = "done"
            elif name == self.current_stage and self.status == RunStatus.RUNNING:
                state = "running"
            elif name == self.failed_stage and self.status == RunStatus.FAILED:
                state = "failed"
            elif name == "approval" and self.status == RunStatus.WAITING_APPROVAL:
                state = "waiting_approval"
            else:
                state = "pending"
            rows.append(
                {
                    "stage": name,
                    "state": state,
                    "counts": self.counts.get(name, {}),
                    "dropped": self.dropped.get(name, {}),
                }
            )
        return rows


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class TopicApproval(models.Model):
    """A screened topic of a run: the screening's proposal and the operator's decision."""

    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="approvals")
    topic_id = models.CharField(max_length=128)
    nation = models.CharField(max_length=16)
    label = models.CharField(max_length=255, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    headlines = models.JSONField(default=list, blank=True)
    proposed = models.BooleanField(
        default=False, help_text="The screening's proposal: value-sensitive (yes) or not (no)."
    )
    score = models.FloatField(null=True, blank=True)
    reason = models.TextField(blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "nation", "topic_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "topic_id"], name="unique_topic_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} ({self.label})" if self.label else self.topic_id
