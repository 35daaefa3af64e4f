"""A run through the site: workers' task calls, the approval gate in the admin, the draft release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from leaderboard.catalog.models import DatasetRelease
from leaderboard.pipeline_runs import workflow
from leaderboard.pipeline_runs.models import Decision, PipelineRun, RunStatus, TopicApproval
from leaderboard.pipeline_runs.tasks import run_pipeline_stage
from pipeline import STAGE_NAMES


def drive(run: PipelineRun) -> PipelineRun:
    """Call each queued stage's task in chain order, as the workers would, until the run stops."""
    for stage in run.sent_stages():
        run_pipeline_stage(run.pk, stage)
        run.refresh_from_db()
        if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            break
    return run


def drive_from_start(run: PipelineRun) -> list[str]:
    stages = workflow.prepare(run)
    drive(run)
    return stages


def admin_action(client, model: str, action: str, pks: list[int]):
    url = reverse(f"admin:pipelines_{model}_changelist")
    data = {"action": action, "_selected_action": [str(pk) for pk in pks]}
    return client.post(url, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.slow
def test_a_run_waits_for_approval_in_the_admin_then_imports_a_draft_release(
    demo_run, admin_client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as sent:
        admin_action(admin_client, "pipelinerun", "start_or_resume", [demo_run.pk])
    demo_run.refresh_from_db()
    assert len(sent) == 1  # the workflow goes to the broker once the admin's transaction commits
    assert demo_run.status == RunStatus.QUEUED
    assert demo_run.sent_stages() == list(STAGE_NAMES)

    run = drive(demo_run)
    assert run.status == RunStatus.WAITING_APPROVAL, run.log_tail
    assert set(run.counts) == {"ingest", "topics", "tags", "screening"}
    assert run.counts["ingest"]["documents"] > 0
    topics = list(run.approvals.all())
    assert topics and all(t.decision == Decision.PENDING for t in topics)
    assert all(t.keywords and t.reason for t in topics)
    # The demo script answers "no" for sports topics: the proposal is there to be reviewed.
    assert {t.proposed for t in topics} == {True, False}

    status = admin_client.get(reverse("pipeline-run-status", args=[run.pk])).json()
    assert (status["status"], status["pending_approvals"]) == ("waiting_approval", len(topics))

    # Resuming with undecided topics is refused, and says why.
    response = admin_action(admin_client, "pipelinerun", "start_or_resume", [run.pk])
    assert any("still need a decision" in m for m in messages_of(response))
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING_APPROVAL

    proposed = [t.pk for t in topics if t.proposed]
    not_proposed = [t.pk for t in topics if not t.proposed]
    admin_action(admin_client, "topicapproval", "approve_selected", proposed)
    admin_action(admin_client, "topicapproval", "reject_selected", not_proposed)
    decided = TopicApproval.objects.filter(run=run)
    assert set(decided.values_list("decision", flat=True)) == {"approved", "rejected"}
    assert all(t.reviewer == admin_user and t.decided_at for t in decided)

    with django_capture_on_commit_callbacks() as sent:
        admin_action(admin_client, "pipelinerun", "start_or_resume", [run.pk])
    run.refresh_from_db()
    assert len(sent) == 1
    assert run.sent_stages() == list(STAGE_NAMES[STAGE_NAMES.index("approval") :])

    run = drive(run)
    assert run.status == RunStatus.FINISHED, run.log_tail
    assert run.counts["approval"]["approved"] == len(proposed)
    assert run.counts["approval"]["rejected"] == len(not_proposed)
    # The operator's decisions reached the pipeline's approvals file, naming the reviewer.
    on_file = json.loads((Path(run.run_dir) / "approvals.json").read_text())["topics"]
    assert {entry["by"] for entry in on_file.values()} == {"admin"}

    release = run.output_release
    assert release is not None
    assert release.status == DatasetRelease.Status.DRAFT
    assert release.source == DatasetRelease.Source.PIPELINE
    assert release.is_demo  # scripted answers, not a model
    assert release.items.count() == run.counts["release"]["triples"] > 0
    assert sum(release.manifest["counts"].values()) == release.items.count()

    page = admin_client.get(run.get_absolute_url()).content.decode()
    assert release.get_absolute_url() in page
    status = admin_client.get(reverse("pipeline-run-status", args=[run.pk])).json()
    assert status["release"]["triples"] == release.items.count()
    assert status["stages_done"] == len(STAGE_NAMES)

    # Running the last task again (a redelivery) changes nothing.
    assert run_pipeline_stage(run.pk, "release").startswith("skipped")
    assert DatasetRelease.objects.filter(pipeline_runs=run).count() == 1

    # The operator publishes the draft from the release admin.
    url = reverse("admin:benchmark_datasetrelease_changelist")
    data = {"action": "publish_releases", "_selected_action": [release.pk]}
    admin_client.post(url, data)
    release.refresh_from_db()
    assert release.is_published


def test_a_failing_stage_marks_the_run_failed_with_the_reason(broken_run):
    workflow_stages = drive_from_start(broken_run)
    assert workflow_stages[0] == "ingest"
    broken_run.refresh_from_db()
    assert broken_run.status == RunStatus.FAILED
    assert broken_run.failed_stage == "ingest"
    assert broken_run.error.startswith("stage ingest failed:")
    assert "missing.jsonl" in broken_run.error
    assert "Traceback" in broken_run.log_tail
    # Later tasks of the chain do nothing once the run failed.
    assert run_pipeline_stage(broken_run.pk, "topics") == "skipped: run is failed"


def test_a_failed_run_can_be_resumed_from_the_failed_stage(broken_run, tmp_path):
    drive_from_start(broken_run)
    broken_run.refresh_from_db()
    assert broken_run.can_resume
    (tmp_path / "missing.jsonl").write_text("not json\n")
    stages = drive_from_start(broken_run)
    assert stages[0] == "ingest"
    broken_run.refresh_from_db()
    assert broken_run.status == RunStatus.FAILED
    assert "no valid news records" in broken_run.error


def test_a_stage_called_out_of_order_fails_with_the_missing_stages(demo_run):
    workflow.prepare(demo_run)
    run_pipeline_stage(demo_run.pk, "topics")
    demo_run.refresh_from_db()
    assert demo_run.status == RunStatus.FAILED
    assert "needs ingest to complete first" in demo_run.error


def test_a_cancelled_run_skips_its_queued_tasks(demo_run):
    workflow.prepare(demo_run)
    assert workflow.cancel(demo_run, by="operator")
    assert run_pipeline_stage(demo_run.pk, "ingest") == "skipped: run is cancelled"
    demo_run.refresh_from_db()
    assert demo_run.counts == {}
    assert "Cancelled by operator" in demo_run.log_tail


def test_a_cancelled_run_resumes_only_once_its_running_stage_has_stopped(demo_run):
    from datetime import timedelta

    from django.utils import timezone

    workflow.prepare(demo_run)
    demo_run.status, demo_run.current_stage = RunStatus.RUNNING, "extraction"
    demo_run.heartbeat_at = timezone.now()
    demo_run.save()
    workflow.cancel(demo_run, by="operator")
    demo_run.refresh_from_db()
    # The stage has not reported since: it may still hold the run's lock.
    with pytest.raises(workflow.WorkflowError, match="still stopping"):
        workflow.prepare(demo_run)
    # Once it stopped (or went silent for long enough), the run resumes.
    PipelineRun.objects.filter(pk=demo_run.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=20)
    )
    demo_run.refresh_from_db()
    assert workflow.prepare(demo_run)
