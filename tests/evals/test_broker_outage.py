"""Broker outages: a job queued while the broker is unreachable is sent once it is back."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis

from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, JobStatus
from tests.worker import ROOT, purge_queues, running_worker, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

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


REAP = (
    "import django; django.setup(); from leaderboard.evals import lifecycle; "
    "print(lifecycle.reap_stale_jobs())"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of this test's own, without persistence: a restart loses every message."""
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def in_subprocess(code: str, broker_url: str, extra: dict[str, str] | None = None) -> str:
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=worker_env({"CELERY_BROKER_URL": broker_url, **(extra or {})}),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip().splitlines()[-1]


def test_a_message_lost_in_a_broker_restart_is_sent_again_within_a_minute(
    model, release, settings, tmp_path
):
    job, _ = EvaluationJob.objects.get_or_create(model=model, release=release)
    EvaluationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PENDING, sent_at=None, celery_task_id=""
    )
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    # Only the lost-message check may re-send: the blind re-send timer keeps its 30 minutes.
    reaper = {"EVAL_LOST_MESSAGE_AFTER_S": "1", "EVAL_QUEUE_RESEND_AFTER_S": "1800"}
    with own_redis(port) as server:
        assert in_subprocess(ENQUEUE.format(pk=job.pk), url) == "True"
        job.refresh_from_db()
        token = job.celery_task_id
        # A worker that answers broadcasts but takes no GPU work: the message stays queued.
        with running_worker(tmp_path / "worker.log", {"CELERY_BROKER_URL": url}, ["default"]):
            time.sleep(1.5)
            assert in_subprocess(REAP, url, reaper) == "[]"  # it is on the queue: no copy

            server.terminate()
            server.wait(timeout=20)
            with own_redis(port):
                # The worker reconnects on its own; once it answers, the loss is plain.
                deadline = time.monotonic() + 60
                while (reaped := in_subprocess(REAP, url, reaper)) == "[]":
                    assert time.monotonic() < deadline, "the lost message was never re-sent"
                queued = redis.Redis(port=port).lrange(settings.BROKER_QUEUES["gpu"], 0, -1)
                assert reaped == f"[{job.pk}]"
                assert [json.loads(m)["headers"]["id"] for m in queued] == [token]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.celery_task_id == token and job.resends == 1
