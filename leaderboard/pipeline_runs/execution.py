"""Running one stage of a run: what each Celery task does between loading the row and returning.

The library does the work and makes it idempotent (a stage whose checkpoint is complete is
skipped). This module keeps the row in step: status and current stage, throttled progress and
heartbeat, counts and drop reasons, topic approvals after screening, the waiting state at the
approval gate, the failure reason, and the import of the output as a draft release.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from evaluation.release import load_manifest
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.pipeline_runs import approvals
from leaderboard.pipeline_runs.models import PipelineRun, RunStatus
from leaderboard.tracking import ProgressReporter
from pipeline import run_stage, stage_dir
from pipeline.release import RELEASE_SUBDIR
from pipeline.runner import StageResult

# pg_try_advisory_lock(namespace, run pk): one stage of a run at a time, across workers.
LOCK_NAMESPACE = 0x50_49_50  # "PIP"


class RunCancelled(Exception):
    """The run was cancelled (or taken over by a newer send) while a stage was running."""


@dataclass(frozen=True)
class Outcome:
    message: str
    #: Whether the workflow goes on to the next stage.
    proceed: bool


def stage_reporter(run_pk: int, stage: str, task_id: str | None) -> ProgressReporter:
    """The library's progress callback for STAGE of the run; raises RunCancelled once the run
    was cancelled, or resumed by a newer send (new task ids) while this stage still runs."""
    current = PipelineRun.objects.filter(pk=run_pk, status=RunStatus.RUNNING, current_stage=stage)
    if task_id is not None:
        current = current.filter(**{f"celery_task_ids__{stage}": task_id})
    return ProgressReporter(
        current, lambda: RunCancelled(f"run {run_pk} stopped while {stage} was running")
    )


@contextmanager
def run_lock(run_pk: int) -> Iterator[bool]:
    """Held while a stage runs, so a duplicate delivery of a task cannot run beside it.

    A session-level PostgreSQL advisory lock: a worker that dies drops its connection and with
    it the lock, so a redelivery after a crash proceeds. Other databases (the embedded SQLite
    default runs one worker) go without.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, run_pk])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, run_pk])


def execute_stage(run_pk: int, stage: str, task_id: str | None = None) -> Outcome:
    """Run `stage` of the run; `task_id` (None when called directly) must be the current send's."""
    run = PipelineRun.objects.get(pk=run_pk)
    if task_id is not None and run.celery_task_ids.get(stage) != task_id:
        return Outcome(f"skipped: stale task for {stage}", proceed=False)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return Outcome(f"skipped: run is {run.status}", proceed=False)
    with run_lock(run_pk) as acquired:
        if not acquired:
            return Outcome(f"skipped: another worker is running {run}", proceed=False)
        return _execute(run, stage, task_id)


def _execute(run: PipelineRun, stage: str, task_id: str | None) -> Outcome:
    now = timezone.now()
    claimed = PipelineRun.objects.filter(
        pk=run.pk, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).update(
        status=RunStatus.RUNNING,
        current_stage=stage,
        progress_done=0,
        progress_total=0,
        heartbeat_at=now,
        started_at=run.started_at or now,
    )
    if not claimed:
        return Outcome("skipped: run stopped", proceed=False)
    try:
        config = run.pipeline_config()
        if stage == "approval":
            approvals.write_decisions(run)
        progress = stage_reporter(run.pk, stage, task_id)
        result = run_stage(Path(run.run_dir), config, stage, progress)
        if stage in ("screening", "approval"):
            approvals.sync_topics(run)
        if result.status == "awaiting_approval":
            return _wait_for_approval(run, result)
        _record(run, result)
        if stage == "release":
            return _finish(run, is_demo=config.llm.backend == "scripted")
    except RunCancelled as exc:
        PipelineRun.append_log(run.pk, str(exc))
        # The stage has stopped: from now on the run may be resumed safely.
        PipelineRun.objects.filter(pk=run.pk, status=RunStatus.CANCELLED).update(current_stage="")
        return Outcome("cancelled", proceed=False)
    except Exception as exc:
        _fail(run, stage, exc)
        return Outcome(f"failed: {stage}", proceed=False)
    return Outcome(f"{stage}: {result.status}", proceed=True)


def _format(values: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "-"


def _record(run: PipelineRun, result: StageResult) -> None:
    run.refresh_from_db()
    run.counts = {**run.counts, result.stage: result.counts}
    run.dropped = {**run.dropped, result.stage: result.dropped}
    run.heartbeat_at = timezone.now()
    # Between stages nothing runs: a cancel now can be resumed at once.
    run.current_stage = ""
    run.save(update_fields=["counts", "dropped", "heartbeat_at", "current_stage"])
    line = f"{result.stage}: {result.status} ({_format(result.counts)})"
    if result.dropped:
        line += f"; dropped {_format(result.dropped)}"
    if result.llm_calls:
        line += f"; {result.llm_calls} LLM call(s)"
    PipelineRun.append_log(run.pk, line)


def _wait_for_approval(run: PipelineRun, result: StageResult) -> Outcome:
    PipelineRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.WAITING_APPROVAL, heartbeat_at=timezone.now(), current_stage=""
    )
    pending = approvals.pending_count(run)
    PipelineRun.append_log(
        run.pk,
        f"Waiting for approval: {pending} topic(s) need a decision in the admin "
        "(Topic approvals), then resume the run",
    )
    return Outcome(result.message or "awaiting approval", proceed=False)


def _finish(run: PipelineRun, *, is_demo: bool) -> Outcome:
    """Import the output as a draft release (once) and mark the run finished."""
    run.refresh_from_db()
    with transaction.atomic():
        if run.output_release is None:
            run.output_release = _import_output(run, is_demo)
        run.status = RunStatus.FINISHED
        run.current_stage = ""
        run.finished_at = timezone.now()
        run.save(update_fields=["output_release", "status", "current_stage", "finished_at"])
    return Outcome(f"finished: draft release {run.output_release}", proceed=False)


def _import_output(run: PipelineRun, is_demo: bool) -> DatasetRelease:
    release_dir = stage_dir(Path(run.run_dir), "release") / RELEASE_SUBDIR
    version = str(load_manifest(release_dir).get("version") or "")
    taken = DatasetRelease.objects.filter(version=version).first()
    if taken is not None:
        # The importer would replace a draft of that name: never another run's output.
        raise ValueError(
            f"release {version!r} already exists ({taken.get_status_display().lower()}, "
            f"{taken.get_source_display().lower()}); set release_version in the config "
            "and start a new run"
        )
    report = import_release(
        release_dir,
        version=version or None,
        title=f"Pipeline run {run.pk}: {version}",
        source=DatasetRelease.Source.PIPELINE,
        is_demo=is_demo,
        publish=False,
    )
    PipelineRun.append_log(run.pk, report.summary()[0])
    release = report.release
    # Alignment jobs can then train on this run's triples from before Conflict Reduction.
    release.manifest = {**release.manifest, "run_dir": str(Path(run.run_dir).resolve())}
    release.save(update_fields=["manifest"])
    return release


def _fail(run: PipelineRun, stage: str, exc: BaseException) -> None:
    reason = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    PipelineRun.append_log(run.pk, f"{stage} failed:\n{traceback.format_exc()[-3000:]}")
    # A run cancelled meanwhile stays cancelled.
    PipelineRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        failed_stage=stage,
        error=f"stage {stage} failed: {reason}",
        finished_at=timezone.now(),
    )
