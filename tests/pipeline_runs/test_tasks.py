"""The Celery side: queue routing per stage, stale deliveries, one stage of a run at a time."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from leaderboard.celery import app as celery_app
from leaderboard.pipeline_runs import workflow
from leaderboard.pipeline_runs.execution import LOCK_NAMESPACE, RunCancelled, stage_reporter
from leaderboard.pipeline_runs.models import RunStatus
from leaderboard.pipeline_runs.tasks import run_pipeline_stage
from pipeline import STAGE_NAMES
from pipeline.config import ScreeningParams

LLM_STAGES = {"tags", "screening", "extraction", "generation"}


def test_the_workflow_sends_llm_stages_to_the_gpu_queue(demo_run):
    workflow.prepare(demo_run)
    chain = workflow.build_workflow(demo_run)
    assert [sig.args[1] for sig in chain.tasks] == list(STAGE_NAMES)  # the run's order
    queues = {sig.options["queue"]: set() for sig in chain.tasks}
    for sig in chain.tasks:
        queues[sig.options["queue"]].add(sig.args[1])
    gpu, default = settings.BROKER_QUEUES["gpu"], settings.BROKER_QUEUES["default"]
    assert queues == {gpu: LLM_STAGES, default: set(STAGE_NAMES) - LLM_STAGES}
    assert [sig.task for sig in chain.tasks] == [run_pipeline_stage.name] * len(STAGE_NAMES)
    # Each link carries the task id stored on the run, so stale deliveries can be told apart.
    assert {sig.args[1]: sig.options["task_id"] for sig in chain.tasks} == (
        demo_run.celery_task_ids
    )


def test_embedding_screening_runs_on_the_default_queue(demo_run):
    config = demo_run.pipeline_config()
    demo_run.config = dataclasses.replace(
        config, screening=ScreeningParams(method="embedding")
    ).to_dict()
    demo_run.save()
    workflow.prepare(demo_run)
    queues = {sig.args[1]: sig.options["queue"] for sig in workflow.build_workflow(demo_run).tasks}
    assert queues["screening"] == settings.BROKER_QUEUES["default"]
    assert queues["tags"] == settings.BROKER_QUEUES["gpu"]


def test_a_delivery_from_an_older_send_does_nothing(demo_run):
    workflow.prepare(demo_run)
    result = run_pipeline_stage.apply(args=[demo_run.pk, "ingest"], task_id="an-older-send")
    assert result.get() == "skipped: stale task for ingest"
    demo_run.refresh_from_db()
    assert demo_run.status == RunStatus.QUEUED
    assert demo_run.counts == {}


def test_a_delivery_with_the_current_task_id_runs_the_stage(broken_run):
    workflow.prepare(broken_run)
    task_id = broken_run.celery_task_ids["ingest"]
    result = run_pipeline_stage.apply(args=[broken_run.pk, "ingest"], task_id=task_id)
    assert result.get() == "failed: ingest"


def test_a_duplicate_delivery_does_not_run_beside_the_running_stage(demo_run):
    workflow.prepare(demo_run)
    settings = connection.settings_dict
    # Another worker's session holds the run's lock.
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, demo_run.pk])
        outcome = run_pipeline_stage(demo_run.pk, "ingest")
    assert outcome.startswith("skipped: another worker is running")
    demo_run.refresh_from_db()
    assert demo_run.counts == {}


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.FINISHED])
def test_only_stopped_runs_can_be_started(demo_run, status):
    demo_run.status = status
    demo_run.save()
    with pytest.raises(workflow.WorkflowError):
        workflow.prepare(demo_run)


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_the_sent_chain_stops_at_a_failing_stage(
    broken_run, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.start(broken_run)
    broken_run.refresh_from_db()
    assert broken_run.status == RunStatus.FAILED
    assert broken_run.failed_stage == "ingest"
    assert broken_run.counts == {}


def test_a_running_stage_stops_at_its_next_report_once_cancelled(demo_run):
    workflow.prepare(demo_run)
    demo_run.status, demo_run.current_stage = RunStatus.RUNNING, "extraction"
    demo_run.save()
    report = stage_reporter(demo_run.pk, "extraction", demo_run.celery_task_ids["extraction"])
    report("extraction", 3, 10)
    demo_run.refresh_from_db()
    assert (demo_run.progress_done, demo_run.progress_total) == (3, 10)
    assert demo_run.heartbeat_at is not None

    workflow.cancel(demo_run, by="operator")
    with pytest.raises(RunCancelled):
        report("extraction", 10, 10)


def test_a_running_stage_from_an_older_send_stops_at_its_next_report(demo_run):
    workflow.prepare(demo_run)
    demo_run.status, demo_run.current_stage = RunStatus.RUNNING, "extraction"
    demo_run.save()
    report = stage_reporter(demo_run.pk, "extraction", "an-older-send")
    with pytest.raises(RunCancelled):
        report("extraction", 10, 10)
