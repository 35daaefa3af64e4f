"""Submission form, queue page, job pages with live progress, cancel and re-run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from leaderboard.evals import lifecycle
from leaderboard.evals.forms import SubmissionForm
from leaderboard.evals.models import EvaluationJob, JobStatus
from leaderboard.evals.permissions import can_manage
from leaderboard.evals.score_table import score_table
from leaderboard.evals.slices import declaration
from leaderboard.evals.submission import (
    SubmissionError,
    current_releases,
    daily_quota,
    submissions_today,
    submit,
)
from leaderboard.throttle import submission_throttle


@login_required
@submission_throttle
def submit_model(request: HttpRequest) -> HttpResponse:
    form = SubmissionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            jobs = submit(form.to_submission(), request.user)
        except SubmissionError as exc:
            form.add_error(exc.field, str(exc))
        else:
            names = ", ".join(job.release.benchmark.name for job in jobs)
            model = jobs[0].model
            messages.success(request, f"{model.display_name} is queued for evaluation on {names}.")
            # One job: its live page; several: the model's page lists them all.
            return redirect(jobs[0] if len(jobs) == 1 else model)
    context = {
        "form": form,
        "releases": current_releases(),
        "used_today": submissions_today(request.user),
    }
    return render(request, "evals/submit.html", context)


def _waiting_with_position() -> list[EvaluationJob]:
    waiting = (
        EvaluationJob.objects.filter(status__in=[JobStatus.PENDING, JobStatus.QUEUED])
        .select_related("model", "release__benchmark")
        .annotate(
            position=Window(RowNumber(), order_by=[F("queued_at").asc(nulls_last=True), "id"])
        )
        .order_by("position")
    )
    return list(waiting)


def queue(request: HttpRequest) -> HttpResponse:
    running = (
        EvaluationJob.objects.filter(status=JobStatus.RUNNING)
        .select_related("model", "release__benchmark")
        .order_by("started_at")
    )
    failures = (
        EvaluationJob.objects.filter(status=JobStatus.FAILED)
        .select_related("model", "release__benchmark")
        .order_by("-finished_at")[:20]
    )
    finished = (
        EvaluationJob.objects.filter(status=JobStatus.FINISHED)
        .select_related("model", "release__benchmark")
        .order_by("-finished_at")[:10]
    )
    context = {
        "waiting": _waiting_with_position(),
        "running": running,
        "failures": failures,
        "finished": finished,
        "now": timezone.now(),
    }
    return render(request, "evals/queue.html", context)


def _job(pk: int) -> EvaluationJob:
    return get_object_or_404(
        EvaluationJob.objects.select_related("model", "release__benchmark"), pk=pk
    )


def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(pk)
    context = {
        "job": job,
        "events": job.events.all(),
        "scores": score_table(declaration(job.release), job.scores.all()),
        "attempts": job.attempts(),
        "can_manage": can_manage(request.user, job),
    }
    return render(request, "evals/job_detail.html", context)


def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the job page for live progress."""
    job = _job(pk)
    elapsed = job.elapsed
    return JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "status_label": job.get_status_display(),
            "stage": job.progress_stage,
            "done": job.progress_done,
            "total": job.progress_total,
            "percent": job.progress_percent,
            "label": job.progress_label,
            "elapsed_s": int(elapsed.total_seconds()) if elapsed else None,
            "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else None,
            "worker": job.worker_host,
            "failure_kind": job.failure_kind,
            "failure_reason": job.failure_reason,
            "log_tail": job.log_tail[-4000:],
            "events": [
                {"at": e.at.isoformat(), "status": e.status, "message": e.message}
                for e in job.events.all()
            ],
            "active": job.is_active,
        }
    )


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(pk)
    if not can_manage(request.user, job):
        raise PermissionDenied("Only the model's submitter or staff can cancel this job.")
    if lifecycle.cancel(job, by=request.user.get_username()):
        messages.info(request, "The job was cancelled.")
    else:
        messages.warning(request, "The job had already ended.")
    return redirect(job)


def job_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST creates a new attempt."""
    job = _job(pk)
    if not can_manage(request.user, job):
        raise PermissionDenied("Only the model's submitter or staff can re-run this job.")
    if request.method == "POST":
        try:
            # Re-runs use GPU time like submissions, so they count against the same limit.
            with daily_quota(request.user):
                new_job = lifecycle.rerun(job, requested_by=request.user)
        except (lifecycle.JobConflict, SubmissionError) as exc:
            messages.error(request, str(exc))
            return redirect(job)
        messages.success(request, f"Attempt {new_job.attempt} is queued.")
        return redirect(new_job)
    return render(request, "evals/job_rerun_confirm.html", {"job": job})
