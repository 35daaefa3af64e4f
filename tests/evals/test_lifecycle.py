from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, FailureKind, JobStatus


@pytest.fixture(autouse=True)
def no_broker_sends():
    """Unit tests check state transitions; the end-to-end tests use a real worker."""
    with mock.patch("leaderboard.evals.tasks.run_evaluation.apply_async") as send:
        yield send


def test_it_queues_the_job_after_commit(
    model, release, settings, no_broker_sends, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.celery_task_id
    assert job.sent_at is not None
    # Sent by name through a signature, which hands the task its arguments positionally.
    send = no_broker_sends.call_args
    assert send.kwargs["queue"] == settings.BROKER_QUEUES["gpu"]
    assert list(send.args[0]) == [job.pk, job.celery_task_id]
    assert [e.message for e in job.events.all()] == ["Submitted", "Queued for a GPU worker"]


def test_it_refuses_a_second_live_job_for_the_same_model_and_release(model, release):
    lifecycle.create_job(model, release)
    with pytest.raises(lifecycle.JobConflict):
        lifecycle.create_job(model, release)


def test_it_ignores_stale_deliveries(model, release, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    assert lifecycle.claim(job.pk, "not-the-token", "w1") is None
    claimed = lifecycle.claim(job.pk, job.celery_task_id, "w1")
    assert claimed is not None and claimed.status == JobStatus.RUNNING
    # A duplicate copy while the first worker is alive is skipped.
    assert lifecycle.claim(job.pk, job.celery_task_id, "w2") is None


def test_it_retries_infra_failures_then_fails_clearly(
    model, release, settings, django_capture_on_commit_callbacks
):
    settings.EVAL_MAX_INFRA_RETRIES = 1
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    lifecycle.claim(job.pk, job.celery_task_id, "w1")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.fail(job.pk, job.celery_task_id, FailureKind.INFRA, "CUDA driver lost")
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.infra_retries == 1
    lifecycle.claim(job.pk, job.celery_task_id, "w2")
    lifecycle.fail(job.pk, job.celery_task_id, FailureKind.INFRA, "CUDA driver lost again")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == FailureKind.INFRA
    assert "again" in job.failure_reason


def test_it_never_retries_model_failures(model, release, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    lifecycle.claim(job.pk, job.celery_task_id, "w1")
    lifecycle.fail(job.pk, job.celery_task_id, FailureKind.MODEL, "tokenizer.json is missing")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.failure_kind == FailureKind.MODEL
    assert job.infra_retries == 0


def test_a_failure_reason_quoting_nul_bytes_is_stored(model, release):
    job = lifecycle.create_job(model, release)
    EvaluationJob.append_log(job.pk, "generated: \x00\x00")
    lifecycle.fail(job.pk, None, FailureKind.MODEL, "unparsable output 'A\x00B'")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.failure_kind == FailureKind.MODEL
    assert job.failure_reason == "unparsable output 'A\ufffdB'"
    assert "generated: \ufffd\ufffd" in job.log_tail


def test_reaper_requeues_a_running_job_whose_heartbeat_stopped(
    model, release, settings, django_capture_on_commit_callbacks
):
    settings.EVAL_HEARTBEAT_TIMEOUT = timedelta(seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    lifecycle.claim(job.pk, job.celery_task_id, "w1")
    EvaluationJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.reap_stale_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.infra_retries == 1
    assert "No heartbeat" in job.events.last().message


def test_reaper_resends_queued_jobs_that_nobody_picked_up_keeping_the_token(
    model, release, settings, no_broker_sends, django_capture_on_commit_callbacks
):
    settings.EVAL_QUEUE_RESEND_AFTER = timedelta(seconds=60)
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    token = job.celery_task_id
    EvaluationJob.objects.filter(pk=job.pk).update(sent_at=timezone.now() - timedelta(minutes=5))
    lifecycle.reap_stale_jobs()
    job.refresh_from_db()
    assert job.celery_task_id == token
    assert no_broker_sends.call_count == 2
    assert job.sent_at > timezone.now() - timedelta(seconds=5)

    # The next re-send waits twice as long: a long queue is not flooded with copies.
    EvaluationJob.objects.filter(pk=job.pk).update(sent_at=timezone.now() - timedelta(seconds=90))
    assert lifecycle.reap_stale_jobs() == []
    EvaluationJob.objects.filter(pk=job.pk).update(sent_at=timezone.now() - timedelta(seconds=130))
    assert lifecycle.reap_stale_jobs() == [job.pk]
    assert no_broker_sends.call_count == 3


def test_cancel_stops_heartbeats_and_frees_the_slot(
    model, release, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    token = job.celery_task_id
    lifecycle.claim(job.pk, token, "w1")
    assert lifecycle.cancel(job, by="owner")
    assert not lifecycle.heartbeat(job.pk, token)
    again = lifecycle.create_job(model, release)
    assert again.attempt == 2


def test_publishing_a_release_queues_every_model(
    model, release, django_capture_on_commit_callbacks
):
    from tests.factories import make_release

    with django_capture_on_commit_callbacks(execute=True):
        newer = make_release("r2", per_cell=1)
    assert EvaluationJob.objects.filter(model=model, release=newer).count() == 1


def test_aligned_models_are_neither_requeued_on_publish_nor_ranked(
    model, release, django_capture_on_commit_callbacks
):
    from leaderboard.evals.models import LanguageModel, ModelType
    from tests.factories import make_release

    aligned = LanguageModel.objects.create(
        name="org/tiny+dpo-us", revision="local-x", model_type=ModelType.ALIGNED, base_model=model
    )
    with django_capture_on_commit_callbacks(execute=True):
        newer = make_release("r2", per_cell=1)
    assert not EvaluationJob.objects.filter(model=aligned, release=newer).exists()
    EvaluationJob.objects.create(model=aligned, release=newer, status=JobStatus.FINISHED)
    assert not EvaluationJob.objects.rankable().filter(model=aligned).exists()


def test_the_requester_is_told_by_mail_when_a_job_ends_for_good(
    model, release, owner, mailoutbox, django_capture_on_commit_callbacks
):
    owner.email = "owner@example.org"
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release, requested_by=owner)
    job.refresh_from_db()
    lifecycle.claim(job.pk, job.celery_task_id, "w1")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.fail(job.pk, job.celery_task_id, FailureKind.MODEL, "tokenizer.json is missing")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["owner@example.org"] and "failed" in message.subject
    assert "tokenizer.json is missing" in message.body and job.get_absolute_url() in message.body
