"""Creating runs, sending their workflow, resuming and cancelling them.

A run's workflow is a Celery chain with one task per remaining stage, each routed to the queue
its stage needs (`Stage.queue`: LLM stages to "gpu", CPU stages to "default"). Every send gets
fresh task ids, stored on the run, so a task left over from an earlier send (after a cancel or a
resume) recognises itself as stale and does nothing.
"""

from __future__ import annotations

import dataclasses
import tomllib
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import chain, current_app
from celery.canvas import Signature
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leaderboard.catalog.models import DatasetRelease
from leaderboard.pipeline_runs import approvals
from leaderboard.pipeline_runs.execution import execute_stage
from leaderboard.pipeline_runs.models import ACTIVE_STATUSES, PipelineRun, RunStatus
from pipeline import STAGE_NAMES, PipelineConfig, load_config, run_status
from pipeline.config import ConfigError
from pipeline.runner import get_stage

#: The Celery task of one stage, by name: the tasks module imports this one, never the reverse.
#: The name predates the package's rename (pipelines -> pipeline_runs) and stays: chains of
#: runs already on the broker carry it, as the app label stays for migrations and tables.
STAGE_TASK = "leaderboard.pipelines.tasks.run_pipeline_stage"

# How long after its last report a cancelled run's stage may still be running.
STOPPING_GRACE = timedelta(minutes=15)


class WorkflowError(Exception):
    """The run cannot be created, started or resumed; the message says why."""


def resolve_config(
    config_path: str = "", config_text: str = "", run_dir: str = ""
) -> PipelineConfig:
    """Load a config from a file or from TOML text, optionally moving its run directory.

    Relative paths in pasted TOML are taken from the project root, as the operator would write
    them in a shell there.
    """
    if bool(config_path) == bool(config_text):
        raise ConfigError("give either a config file path or the config's TOML text")
    if config_path:
        config = load_config(config_path)
    else:
        try:
            data = tomllib.loads(config_text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config TOML: {exc}") from exc
        config = PipelineConfig.from_dict(data, base_dir=Path(settings.BASE_DIR))
    if run_dir:
        directory = Path(run_dir).expanduser()
        config = dataclasses.replace(
            config,
            run_dir=directory if directory.is_absolute() else Path(settings.BASE_DIR) / directory,
        )
    return config


def check_new_run(config: PipelineConfig) -> None:
    """Refuse a run that would share a live run's directory or reuse a release version."""
    live = PipelineRun.objects.filter(run_dir=str(config.run_dir), status__in=ACTIVE_STATUSES)
    if live.exists():
        raise WorkflowError(
            f"{config.run_dir} is in use by {live.first()}; finish or cancel it first"
        )
    if config.release_version and DatasetRelease.objects.filter(version=config.release_version):
        raise WorkflowError(
            f"a release {config.release_version!r} already exists; set another release_version"
        )


def prepare_new_run(
    run: PipelineRun, config_path: str = "", config_text: str = "", run_dir: str = ""
) -> None:
    """Fill an unsaved run from a config file or pasted TOML, after checking it can run."""
    config = resolve_config(config_path, config_text, run_dir)
    check_new_run(config)
    run.config = config.to_dict()
    run.run_dir = str(config.run_dir)
    if config_path:
        run.config_path = str(Path(config_path).resolve())
        run.config_text = config_text or Path(config_path).read_text(encoding="utf-8")
    else:
        run.config_path, run.config_text = "", config_text


def create_run(
    *, config_path: str = "", config_text: str = "", run_dir: str = "", created_by: Any = None
) -> PipelineRun:
    run = PipelineRun(created_by=created_by if getattr(created_by, "pk", None) else None)
    prepare_new_run(run, config_path, config_text, run_dir)
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError as exc:
        raise WorkflowError(f"{run.run_dir} is in use by another run") from exc
    PipelineRun.append_log(
        run.pk, f"Created from {config_path or 'pasted TOML'}; run directory {run.run_dir}"
    )
    return run


def remaining_stages(run: PipelineRun) -> list[str]:
    """Stages from the first one without a checkpoint; the release stage again if the run's
    release was never imported (the task skips the finished stage and imports)."""
    states = {row["stage"]: row["state"] for row in run_status(Path(run.run_dir))}
    for index, name in enumerate(STAGE_NAMES):
        if states[name] != "done":
            return list(STAGE_NAMES[index:])
    return [] if run.output_release_id else [STAGE_NAMES[-1]]


def still_stopping(run: PipelineRun) -> bool:
    """A cancelled run whose stage was running and reported recently may not have stopped yet
    (it notices the cancel at its next progress report)."""
    recent = timezone.now() - STOPPING_GRACE
    return (
        run.status == RunStatus.CANCELLED
        and bool(run.current_stage)
        and run.heartbeat_at is not None
        and run.heartbeat_at > recent
    )


def prepare(run: PipelineRun) -> list[str]:
    """Mark the run queued with fresh task ids for its remaining stages; returns those stages."""
    with transaction.atomic():
        locked = PipelineRun.objects.select_for_update().get(pk=run.pk)
        if not locked.can_resume:
            raise WorkflowError(f"{locked} is {locked.get_status_display().lower()}")
        if locked.status == RunStatus.WAITING_APPROVAL and (n := approvals.pending_count(locked)):
            raise WorkflowError(f"{locked}: {n} topic(s) still need a decision")
        if still_stopping(locked):
            # Its new task would find the old one holding the run's lock and stop the chain.
            raise WorkflowError(
                f"{locked}: stage {locked.current_stage} of the cancelled send is still "
                "stopping; resume once it has (at its next progress report, or after 15 minutes "
                "without one)"
            )
        stages = remaining_stages(locked)
        if not stages:
            raise WorkflowError(f"{locked} has nothing left to run")
        locked.celery_task_ids = {name: uuid.uuid4().hex for name in stages}
        locked.status = RunStatus.QUEUED
        locked.failed_stage = ""
        locked.error = ""
        locked.queued_at = timezone.now()
        locked.finished_at = None
        locked.save()
    PipelineRun.append_log(run.pk, f"Queued stages {stages[0]}..{stages[-1]}")
    run.refresh_from_db()
    return stages


def build_workflow(run: PipelineRun) -> chain:
    """The chain for the run's current task ids, each stage routed to the queue it needs."""
    config = run.pipeline_config()
    signatures: list[Signature[Any]] = [
        current_app.signature(STAGE_TASK, args=(run.pk, name), immutable=True).set(
            queue=settings.BROKER_QUEUES[get_stage(name).queue(config)],
            task_id=run.celery_task_ids[name],
        )
        for name in run.sent_stages()
    ]
    return chain(*signatures)


def start(run: PipelineRun) -> list[str]:
    """Queue the run's remaining stages on the workers (sent once the transaction commits)."""
    stages = prepare(run)
    workflow = build_workflow(run)
    transaction.on_commit(lambda: _send(run.pk, workflow))
    return stages


def _send(run_pk: int, workflow: chain) -> None:
    try:
        workflow.apply_async()
    except Exception as exc:  # broker down: say so; the operator resumes once it is back
        PipelineRun.objects.filter(pk=run_pk, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED, error=f"could not reach the broker: {exc}"
        )
        PipelineRun.append_log(run_pk, f"Could not reach the broker: {exc}")


def run_in_process(run: PipelineRun) -> PipelineRun:
    """Run the remaining stages here, one after another, as the workers would."""
    for name in prepare(run):
        if not execute_stage(run.pk, name).proceed:
            break
    run.refresh_from_db()
    return run


def cancel(run: PipelineRun, *, by: str) -> bool:
    """Stop the run: queued tasks skip themselves, a running stage stops at its next report."""
    updated = PipelineRun.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).update(
        status=RunStatus.CANCELLED, finished_at=timezone.now()
    )
    if updated:
        PipelineRun.append_log(run.pk, f"Cancelled by {by}")
    return bool(updated)
