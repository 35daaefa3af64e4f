"""Each test run has a broker namespace and a test database of its own (tests/settings.py), so
runs sharing one Redis database and one DATABASE_URL leave each other's queues, broadcasts and
databases alone: purging, the reaper and the workers of one run never touch another's."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from kombu import Queue  # type: ignore[attr-defined]
from kombu.exceptions import ChannelError

from leaderboard.celery import app
from leaderboard.evals import broker, lifecycle
from leaderboard.evals.models import EvaluationJob, JobStatus
from tests.settings import RUN_ID
from tests.worker import purge_queues, running_worker


def test_queues_exchanges_and_the_test_database_are_named_after_the_run(settings):
    ns = f"test-{RUN_ID}"
    assert {"default": f"{ns}.default", "gpu": f"{ns}.gpu"} == settings.BROKER_QUEUES
    assert app.conf.task_default_queue == f"{ns}.default"
    assert {queue.name for queue in app.conf.task_queues} == {f"{ns}.default", f"{ns}.gpu"}
    assert app.conf.control_exchange == f"{ns}.celery"
    assert app.conf.event_exchange == f"{ns}.celeryev"
    if connection.vendor == "postgresql":
        assert settings.DATABASES["default"]["TEST"]["NAME"].endswith(f"_{RUN_ID}")


def message_count(name: str) -> int:
    with app.connection_for_read() as conn:
        try:
            return int(conn.default_channel.queue_declare(queue=name, passive=True).message_count)
        except ChannelError:  # Redis forgets an empty queue
            return 0


@contextmanager
def another_runs_gpu_queue() -> Iterator[str]:
    """The `gpu` queue of another run on this broker, holding one message."""
    name = f"test-{uuid.uuid4().hex[:8]}.gpu"
    with app.connection_for_write() as conn:
        conn.Producer().publish({"job": 1}, routing_key=name, declare=[Queue(name)])  # type: ignore[no-untyped-call]
    try:
        yield name
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(name)


def test_purging_empties_this_runs_queues_only():
    purge_queues()  # earlier tests may have left messages on this run's queues
    with another_runs_gpu_queue() as theirs:
        with app.connection_for_write() as conn:
            ours = app.conf.task_default_queue
            conn.Producer().publish({"job": 2}, routing_key=ours, declare=[Queue(ours)])  # type: ignore[no-untyped-call]
        assert message_count(ours) == 1
        purge_queues()
        assert message_count(ours) == 0
        assert message_count(theirs) == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_of_another_run_neither_answers_this_runs_broadcasts_nor_takes_its_jobs(
    worker_settings, model, release, tmp_path
):
    another_run = {"TEST_RUN_ID": uuid.uuid4().hex[:8]}
    with (
        running_worker(tmp_path / "theirs.log", another_run),
        running_worker(tmp_path / "ours.log", queues=["default"]),
    ):
        view = broker.ask_workers(with_reserved=True)
        assert view is not None and len(view.nodes) == 1  # ours answers; theirs does not hear
        # Registering the model queued its job on the published release (after the purge).
        job = EvaluationJob.objects.get(model=model, release=release)
        time.sleep(3)  # time enough for a worker listening on this queue to take it
        job.refresh_from_db()
        assert job.status == JobStatus.QUEUED
        on_queue = broker.queued_task_ids(worker_settings.BROKER_QUEUES["gpu"])
        assert on_queue == {job.celery_task_id}
        # Past the lost-message window the reaper finds the message on this run's queue and
        # asks only this run's worker: nothing to re-send.
        an_hour_ago = timezone.now() - timedelta(hours=1)
        EvaluationJob.objects.filter(pk=job.pk).update(sent_at=an_hour_ago)
        worker_settings.EVAL_QUEUE_RESEND_AFTER = timedelta(days=1)
        assert lifecycle.reap_stale_jobs() == []
