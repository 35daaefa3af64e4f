"""Broker outages: a job queued while the broker is unreachable is sent once it is back."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, JobStatus
from tests.worker import ROOT, purge_queues, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

# A web process whose broker is down (nothing listens on port 9) queues the job.
ENQUEUE = (
    "import django; django.setup(); from leaderboard.evals import lifecycle; "
    "print(lifecycle.enqueue({pk}))"
)


def test_a_job_queued_while_the_broker_is_down_is_sent_when_it_is_back(model, release, settings):
    # Publishing the release may already have queued this model: start from a pending job.
    job, _ = EvaluationJob.objects.get_or_create(model=model, release=release)
    EvaluationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PENDING, sent_at=None, celery_task_id="", log_tail=""
    )
    purge_queues()
    outage = subprocess.run(
        [sys.executable, "-c", ENQUEUE.format(pk=job.pk)],
        env=worker_env({"CELERY_BROKER_URL": "redis://127.0.0.1:9/0"}),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert outage.stdout.strip() == "False", outage.stderr[-2000:]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.sent_at is None
    assert "Could not reach the broker" in job.log_tail

    purge_queues()
    settings.EVAL_QUEUE_RESEND_AFTER = timedelta(seconds=0)
    assert lifecycle.reap_stale_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.sent_at is not None
    purge_queues()
