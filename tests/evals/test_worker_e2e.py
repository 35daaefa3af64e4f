"""End to end with a real Celery worker on the real broker and PostgreSQL, on a tiny model."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from leaderboard.evals import lifecycle
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    FailureKind,
    JobStatus,
    SampleResult,
    Score,
)
from tests.evals.conftest import make_release
from tests.tiny_models import build_tiny_model
from tests.worker import kill_worker, purge_queues, running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def status_of(job: EvaluationJob) -> str:
    job.refresh_from_db()
    return job.status


@pytest.fixture
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


@pytest.fixture
def worker_settings(settings, tmp_path: Path, tiny_model: Path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVAL_RESULTS_DIR = tmp_path / "results"
    settings.SUBMISSION_LOCAL_ROOTS = [tiny_model.parent]
    purge_queues()
    return settings


def test_a_form_submission_is_evaluated_by_the_worker_and_its_scores_appear(
    client, owner, worker_settings, tiny_model, tmp_path
):
    release = make_release("e2e", per_cell=2)
    with running_worker(tmp_path / "worker.log"):
        client.force_login(owner)
        response = client.post(
            reverse("submit"),
            {
                "name": str(tiny_model),
                "precision": "float32",
                "model_type": "base",
                "family": "tiny",
            },
        )
        assert response.status_code == 302, response.content.decode()[-2000:]
        job = EvaluationJob.objects.get()
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FINISHED, job.log_tail
    assert Score.objects.filter(job=job).count() == 5 * 2 * 2  # nations x modes x methods
    assert SampleResult.objects.filter(job=job).count() == release.items.count() * 2
    assert job.repro_card["dtype"] == "float32"
    assert job.worker_host
    board = client.get(reverse("board") + "?nation=us&mode=quoted&method=mc")
    assert job.model.display_name in board.content.decode()
    page = client.get(job.get_absolute_url())
    assert "Finished" in page.content.decode()


def test_killing_the_worker_mid_job_leads_to_a_retry_and_never_a_stuck_job(
    owner, model_factory, worker_settings, tmp_path
):
    worker_settings.EVAL_HEARTBEAT_TIMEOUT = timedelta(seconds=3)
    release = make_release("kill", per_cell=6)
    job = lifecycle.create_job(model_factory(), release, requested_by=owner)
    with running_worker(tmp_path / "worker1.log") as proc:
        wait_for(lambda: status_of(job) == JobStatus.RUNNING, 120, "the job to start")
        kill_worker(proc)
    assert status_of(job) == JobStatus.RUNNING  # nobody has noticed yet
    time.sleep(4)
    assert lifecycle.reap_stale_jobs() == [job.pk]
    assert status_of(job) == JobStatus.QUEUED and job.infra_retries == 1
    with running_worker(tmp_path / "worker2.log"):
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the retried job to end")
    assert job.status == JobStatus.FINISHED, job.log_tail
    messages = [e.message for e in job.events.all()]
    assert any("No heartbeat" in m for m in messages)


def test_a_killed_job_without_retries_left_fails_with_a_clear_reason(
    owner, model_factory, worker_settings, tmp_path
):
    worker_settings.EVAL_HEARTBEAT_TIMEOUT = timedelta(seconds=3)
    worker_settings.EVAL_MAX_INFRA_RETRIES = 0
    release = make_release("kill2", per_cell=6)
    job = lifecycle.create_job(model_factory(), release, requested_by=owner)
    with running_worker(tmp_path / "worker.log") as proc:
        wait_for(lambda: status_of(job) == JobStatus.RUNNING, 120, "the job to start")
        kill_worker(proc)
    time.sleep(4)
    lifecycle.reap_stale_jobs()
    assert status_of(job) == JobStatus.FAILED
    assert job.failure_kind == FailureKind.INFRA
    assert "No heartbeat" in job.failure_reason


def test_a_broken_model_fails_as_a_model_problem_without_retries(
    owner, worker_settings, tmp_path, tiny_model
):
    from leaderboard.evals.models import LanguageModel

    (tiny_model / "tokenizer.json").unlink()
    # The release first: publishing it would otherwise already queue the model.
    release = make_release("broken", per_cell=1)
    model = LanguageModel.objects.create(
        name=str(tiny_model), revision="local-broken", precision="float32"
    )
    job = lifecycle.create_job(model, release, requested_by=owner)
    with running_worker(tmp_path / "worker.log"):
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 180, "the job to end")
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == FailureKind.MODEL, job.log_tail
    assert job.infra_retries == 0
