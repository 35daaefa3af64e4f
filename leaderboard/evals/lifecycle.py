"""Job state transitions. Every change goes through here so the timeline stays complete.

PENDING -> QUEUED -> RUNNING -> FINISHED | FAILED | CANCELLED. Infrastructure failures go
back to QUEUED until `EVAL_MAX_INFRA_RETRIES` is spent; model failures and site set-up
failures (logged at ERROR for the operators) are final. A provider asking for a longer wait
than a request waits in place sends the job back to QUEUED for that long (`wait`): no retry
is spent, and the answers it already had are cached.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from evaluation.benchmarks import get_benchmark
from evaluation.capacity import NoCapacity
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import broker, routing
from leaderboard.evals.models import (
    ACTIVE_STATUSES,
    EvaluationJob,
    FailureKind,
    JobEvent,
    JobKind,
    JobStatus,
    LanguageModel,
)
from leaderboard.evals.notify import notify_requester
from leaderboard.evals.signals import job_finished
from leaderboard.tracking import ProgressReporter, storable_text

log = logging.getLogger(__name__)

#: What the submitter reads after a site set-up failure's reason.
NOT_THE_MODEL = (
    "This is not a fault of the model: the site's set-up cannot run this job; its operators "
    "have been told and will run it again once it is fixed."
)

#: The Celery task that runs each kind of job, by name: the tasks module imports this one,
#: so this one sends by name and never imports it back.
TASK_NAMES = {
    JobKind.EVALUATE: "leaderboard.evals.tasks.run_evaluation",
    JobKind.ALIGN: "leaderboard.evals.tasks.run_alignment",
}


class JobConflict(Exception):
    """Raised when a model already has a live job on a release."""


class JobCancelled(Exception):
    """The job was cancelled or taken over while this worker ran it: stop, record nothing."""


class ModelProblem(Exception):
    """The model itself cannot be evaluated or trained; retrying will not help."""


class ProviderWait(Exception):
    """The model's provider asked to come back in `wait_s` seconds: the job waits."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def record_event(job: EvaluationJob, message: str, *, ended: bool = False) -> None:
    """Add to the job's timeline; the event that ends a job also tells whoever asked for it."""
    JobEvent.objects.create(job=job, status=job.status, message=message)
    if ended and job.requested_by_id:
        job_id = job.pk
        transaction.on_commit(lambda: notify_requester(job_id))


def create_job(
    model: LanguageModel,
    release: DatasetRelease,
    *,
    requested_by: User | AnonymousUser | None = None,
    methods: Iterable[str] | None = None,
    reason: str = "Submitted",
    kind: str = JobKind.EVALUATE,
    exclude_uids: Iterable[str] = (),
    alignment: dict[str, Any] | None = None,
) -> EvaluationJob:
    """Create the next attempt and queue it once the surrounding transaction commits.
    METHODS default to every method the release's benchmark declares on the model's tracks
    (a chat model: none that need log-likelihoods; an open model: no generated letters)."""
    if methods is None:
        methods = [
            m.key for m in get_benchmark(release.benchmark.slug).methods if m.track in model.tracks
        ]
    what = "alignment" if kind == JobKind.ALIGN else "evaluation"
    conflict = f"{model} already has a pending or running {what} job on {release}."
    with transaction.atomic():
        same = EvaluationJob.objects.filter(model=model, release=release, kind=kind)
        if same.filter(status__in=ACTIVE_STATUSES).exists():
            raise JobConflict(conflict)
        last = same.aggregate(n=Max("attempt"))["n"]
        try:
            with transaction.atomic():
                job = EvaluationJob.objects.create(
                    model=model,
                    release=release,
                    kind=kind,
                    attempt=(last or 0) + 1,
                    methods=[str(m) for m in methods],
                    exclude_uids=sorted(exclude_uids),
                    alignment=alignment or {},
                    requested_by=requested_by if isinstance(requested_by, User) else None,
                )
        except IntegrityError as exc:
            raise JobConflict(conflict) from exc
        record_event(job, reason)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id: int, *, resend: bool = False, countdown_s: float = 0.0) -> bool:
    """Send the job to its GPU queue (`routing.capacity_for_job`). False if the job is not
    waiting, no GPU worker of the site can hold its model (the job fails, a set-up problem:
    the site's capacities changed since it was accepted) or the broker is down.

    A new attempt gets a fresh delivery token. A re-send (the message may have been lost in a
    broker restart) keeps the token, so the job keeps its place: whichever copy arrives first
    runs it and the other finds the job taken.
    """
    with transaction.atomic():
        job = EvaluationJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (JobStatus.PENDING, JobStatus.QUEUED):
            return False
        try:
            capacity = routing.capacity_for_job(job)
        except NoCapacity as exc:
            why = f"No GPU worker of this site can hold this model: {exc}."
            transaction.on_commit(lambda: fail(job_id, None, FailureKind.SETUP, why))
            return False
        first_time = job.status == JobStatus.PENDING
        if not (resend and job.celery_task_id):
            job.celery_task_id = uuid.uuid4().hex
        token = job.celery_task_id
        job.status = JobStatus.QUEUED
        if first_time or not resend:
            job.queued_at = timezone.now()
        job.save(update_fields=["celery_task_id", "status", "queued_at"])
        if first_time:
            where = f" with {capacity.gpus} x {capacity.memory_gb:g} GB" if capacity else ""
            record_event(job, f"Queued for a GPU worker{where}")
    try:
        task = current_app.signature(TASK_NAMES[JobKind(job.kind)], args=[job_id, token])
        task.apply_async(
            queue=routing.queue_of(capacity), task_id=token, countdown=countdown_s or None
        )
    except Exception as exc:  # broker down: the reaper sends again later
        EvaluationJob.append_log(job_id, f"Could not reach the broker ({exc}); will retry.")
        return False
    # Only a delivered re-send backs off the next one; a new attempt starts again at zero.
    # A delayed message counts as sent when it is due: the reaper leaves it alone till then.
    EvaluationJob.objects.filter(pk=job_id).update(
        sent_at=timezone.now() + timedelta(seconds=countdown_s),
        resends=F("resends") + 1 if resend else 0,
    )
    return True


def claim(job_id: int, token: str, worker_host: str) -> EvaluationJob | None:
    """Mark the job RUNNING for this delivery, or None if the delivery is stale or the job ended.

    WORKER_HOST is the Celery node name (`gpu@host`) the worker answers broadcasts under.
    """
    with transaction.atomic():
        job = EvaluationJob.objects.select_for_update().get(pk=job_id)
        if job.celery_task_id != token or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None
        if job.status == JobStatus.RUNNING:
            # A redelivery (Celery re-queues a task whose pool process died), or a duplicate
            # copy of this delivery. Only take over once the first process is known gone.
            lost = lost_holder_reason(
                job, timezone.now(), broker.ask_workers, me=(worker_host, os.getpid())
            )
            if lost is None:
                return None  # another copy of this delivery is running on a live worker
            job.infra_retries += 1
            if job.infra_retries > settings.EVAL_MAX_INFRA_RETRIES:
                job.status = JobStatus.FAILED
                job.failure_kind = FailureKind.INFRA
                job.failure_reason = (
                    f"Workers were lost {job.infra_retries} times while running this job. {lost}"
                )
                job.finished_at = timezone.now()
                job.save()
                record_event(job, f"Failed (infrastructure): {job.failure_reason}", ended=True)
                return None
            record_event(
                job,
                f"Infrastructure problem, retry {job.infra_retries} of "
                f"{settings.EVAL_MAX_INFRA_RETRIES}: {lost}",
            )
        now = timezone.now()
        job.status = JobStatus.RUNNING
        job.worker_host = worker_host
        job.started_at = now
        job.heartbeat_at = now
        job.progress_done = 0
        job.save()
        record_event(job, f"Started on {worker_host}")
        return job


def lost_holder_reason(
    job: EvaluationJob,
    now: datetime,
    workers: Callable[[], broker.WorkerView | None],
    me: tuple[str, int] | None = None,
) -> str | None:
    """Why the worker process that claimed this RUNNING job no longer runs it, or None while
    it may still (then nobody else may start it). ME is the asking process, if it is a worker.

    WORKERS is asked only when the heartbeat alone cannot tell.
    """
    host = job.worker_host or "?"
    timeout = settings.EVAL_HEARTBEAT_TIMEOUT
    if job.heartbeat_at is None or job.heartbeat_at <= now - timeout:
        return (
            f"No heartbeat from worker {host} for {int(timeout.total_seconds())} s "
            "(worker lost or killed)."
        )
    view = workers()
    if view is None:
        return None  # no worker answers broadcasts: only the heartbeat timeout can tell
    if view.running.get(job.celery_task_id, set()) - {me}:
        return None
    if host in view.nodes:
        return f"Worker {host} no longer runs this job (its pool process was lost or killed)."
    # Its worker is silent while others answer: gone, or only slow; its beat decides.
    if job.heartbeat_at <= now - settings.EVAL_WORKER_LOST_AFTER:
        return f"Worker {host} stopped answering and stopped beating (worker lost or killed)."
    return None


def heartbeat(job_id: int, token: str) -> bool:
    """Refresh the heartbeat; False once the job was cancelled or taken over."""
    updated = EvaluationJob.objects.filter(
        pk=job_id, celery_task_id=token, status=JobStatus.RUNNING
    ).update(heartbeat_at=timezone.now())
    return bool(updated)


def progress_reporter(
    job: EvaluationJob, token: str, cancelled: threading.Event
) -> ProgressReporter:
    """The progress callback for the work of this delivery of JOB; raises JobCancelled once
    the job was cancelled (CANCELLED is set by the heartbeat) or taken over."""
    still_ours = EvaluationJob.objects.filter(
        pk=job.pk, celery_task_id=token, status=JobStatus.RUNNING
    )
    return ProgressReporter(
        still_ours, JobCancelled, stage_field="progress_stage", cancelled=cancelled
    )


def finish(
    job: EvaluationJob,
    token: str,
    card: dict[str, Any],
    publish: Callable[[EvaluationJob], str],
) -> EvaluationJob | None:
    """End this delivery's job as FINISHED: under the job's lock, `publish(locked_job)` stores
    what the job produced and returns the timeline message, then the job gets CARD and its end.

    None, with nothing published, when this delivery no longer holds the job (cancelled or
    taken over meanwhile). Call it inside a transaction to make follow-up work atomic with it;
    `job_finished` is sent once everything is committed.
    """
    with transaction.atomic():
        locked = EvaluationJob.objects.select_for_update().get(pk=job.pk)
        if locked.celery_task_id != token or locked.status != JobStatus.RUNNING:
            return None
        message = publish(locked)
        locked.repro_card = card
        locked.status = JobStatus.FINISHED
        locked.finished_at = timezone.now()
        locked.progress_done = locked.progress_total
        locked.save()
        record_event(locked, message, ended=True)
        transaction.on_commit(lambda: job_finished.send(sender=EvaluationJob, job=locked))
    return locked


def fail(job_id: int, token: str | None, kind: FailureKind, reason: str) -> EvaluationJob | None:
    """Record a failure. Infra failures are re-queued until the retry budget is spent."""
    with transaction.atomic():
        job = EvaluationJob.objects.select_for_update().get(pk=job_id)
        if token is not None and job.celery_task_id != token:
            return None
        if job.status not in ACTIVE_STATUSES:
            return job
        # Reasons quote exceptions, which may quote what the model generated.
        reason = storable_text(reason)
        job.add_log_line(reason)
        retry = kind == FailureKind.INFRA and job.infra_retries < settings.EVAL_MAX_INFRA_RETRIES
        if retry:
            job.infra_retries += 1
            job.status = JobStatus.QUEUED
            job.heartbeat_at = None
            job.save()
            record_event(
                job,
                f"Infrastructure problem, retry {job.infra_retries} of "
                f"{settings.EVAL_MAX_INFRA_RETRIES}: {reason}",
            )
            transaction.on_commit(lambda: enqueue(job_id))
            return job
        if kind == FailureKind.SETUP:
            # Nothing to retry and nothing for the submitter to fix: the operators must.
            log.error("job %s cannot run on this installation: %s", job_id, reason)
            reason = f"{reason} {NOT_THE_MODEL}"
        job.status = JobStatus.FAILED
        job.failure_kind = kind
        job.failure_reason = reason
        job.finished_at = timezone.now()
        job.save()
        record_event(job, f"Failed ({FailureKind(kind).label.lower()}): {reason}", ended=True)
        return job


def wait(job_id: int, token: str, wait_s: float, reason: str) -> EvaluationJob | None:
    """The provider asked this delivery's job to come back in WAIT_S seconds: back to QUEUED,
    its stage saying until when, sent again then with a fresh token. No retry is spent."""
    with transaction.atomic():
        job = EvaluationJob.objects.select_for_update().get(pk=job_id)
        if job.celery_task_id != token or job.status != JobStatus.RUNNING:
            return None
        until = timezone.now() + timedelta(seconds=wait_s)
        job.status = JobStatus.QUEUED
        job.heartbeat_at = None
        job.progress_stage = f"waiting for the provider until {until:%H:%M:%S} UTC"
        job.sent_at = until  # the reaper leaves it alone till then (see `enqueue`)
        job.add_log_line(reason)
        job.save(update_fields=["status", "heartbeat_at", "progress_stage", "sent_at", "log_tail"])
        record_event(
            job,
            f"Waiting {wait_s:.0f} s for the provider (it asked to come back then); "
            f"queued again, not failed: {storable_text(reason)}",
        )
        transaction.on_commit(lambda: enqueue(job_id, countdown_s=wait_s))
    return job


def cancel(job: EvaluationJob, by: str) -> bool:
    with transaction.atomic():
        job = EvaluationJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in ACTIVE_STATUSES:
            return False
        job.status = JobStatus.CANCELLED
        job.finished_at = timezone.now()
        # A running worker sees the token change at its next heartbeat and stops.
        job.celery_task_id = ""
        job.save()
        record_event(job, f"Cancelled by {by}")
    return True


def rerun(job: EvaluationJob, requested_by: User | AnonymousUser | None) -> EvaluationJob:
    if job.model.publisher_run:
        # No weights or endpoint here: the publisher's records are all there is.
        raise JobConflict(f"{job.model} was run by the publisher: re-import its records instead.")
    return create_job(
        job.model,
        job.release,
        requested_by=requested_by,
        methods=job.methods,
        reason=f"Re-run of attempt {job.attempt}",
        kind=job.kind,
        exclude_uids=job.exclude_uids,
        alignment=job.alignment,
    )


def queue_pending_baselines() -> list[int]:
    """Held-out baselines that could not be queued when their alignment finished (the base
    model was busy): queue each once its base is free. Returns the alignment jobs served."""
    served: list[int] = []
    pending = EvaluationJob.objects.filter(
        kind=JobKind.ALIGN, status=JobStatus.FINISHED, alignment__baseline_pending=True
    ).select_related("model", "release")
    for job in pending:
        try:
            create_job(
                job.model,
                job.release,
                exclude_uids=job.held_out_exclusions,
                reason=f"Held-out baseline for alignment job {job.pk}",
            )
        except JobConflict:
            continue
        job.alignment = {**job.alignment, "baseline_pending": False}
        job.save(update_fields=["alignment"])
        served.append(job.pk)
    return served


def reap_stale_jobs() -> list[int]:
    """Retry or fail running jobs whose worker is gone; re-send waiting jobs whose message is.

    Suspects are running jobs quiet for `EVAL_WORKER_LOST_AFTER` and waiting jobs not taken
    for `EVAL_LOST_MESSAGE_AFTER` (or for the slow timers, where those are shorter); the broker
    and the workers say which of them are lost.
    """
    now = timezone.now()
    quiet = min(settings.EVAL_WORKER_LOST_AFTER, settings.EVAL_HEARTBEAT_TIMEOUT)
    waited = min(settings.EVAL_LOST_MESSAGE_AFTER, settings.EVAL_QUEUE_RESEND_AFTER)
    suspects = list(EvaluationJob.objects.stale(now, quiet, waited))
    waiting = [job for job in suspects if job.status != JobStatus.RUNNING]
    # The queue first, then the workers: a message moving from one to the other meanwhile
    # is seen by the second look, never missed by both.
    on_queue = queued_anywhere(routing.gpu_queues()) if waiting else None
    workers = functools.cache(lambda: broker.ask_workers(with_reserved=True))
    if waiting:
        workers()
    touched: list[int] = []
    for job in suspects:
        if job.status == JobStatus.RUNNING:
            reason = lost_holder_reason(job, now, workers)
            if reason is None:
                continue
            fail(job.pk, None, FailureKind.INFRA, reason)
        elif message_is_lost(job, on_queue, workers()) or resend_is_due(job, now):
            # Stale duplicates of a re-send are ignored, and claim lets only one copy run.
            enqueue(job.pk, resend=True)
        else:
            continue
        touched.append(job.pk)
    queue_pending_baselines()
    return touched


def queued_anywhere(queues: list[str]) -> frozenset[str] | None:
    """Task ids waiting on any of QUEUES; None when one of them cannot be read."""
    found: set[str] = set()
    for queue in queues:
        ids = broker.queued_task_ids(queue)
        if ids is None:
            return None
        found |= ids
    return frozenset(found)


def message_is_lost(
    job: EvaluationJob, on_queue: frozenset[str] | None, view: broker.WorkerView | None
) -> bool:
    """Known to be neither on the queue nor held by a worker (e.g. lost in a broker restart)."""
    if on_queue is None or view is None:
        return False
    return job.celery_task_id not in on_queue and not view.holds(job.celery_task_id)


def resend_is_due(job: EvaluationJob, now: datetime) -> bool:
    """Where the broker cannot tell: re-send after `EVAL_QUEUE_RESEND_AFTER`, doubling the wait
    with each re-send, so a long queue is not flooded with copies."""
    wait = settings.EVAL_QUEUE_RESEND_AFTER * (2 ** min(job.resends, 6))
    return (job.sent_at or job.created_at) <= now - wait
