"""End to end with a real Celery worker on the real broker and PostgreSQL, on a tiny model."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from leaderboard.evals import lifecycle, sample_details
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    FailureKind,
    JobStatus,
    SampleResult,
    Score,
)
from tests.factories import make_release
from tests.tiny_models import build_tiny_model
from tests.worker import kill_worker, pool_processes, running_worker

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
def worker_settings(worker_settings, tiny_model: Path):
    worker_settings.SUBMISSION_LOCAL_ROOTS = [tiny_model.parent]
    return worker_settings


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
    board = client.get(reverse("board", args=["navab"]) + "?nation=us&mode=quoted&method=mc")
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


def test_a_job_whose_pool_process_dies_is_retried_at_once_not_after_the_heartbeat_timeout(
    owner, model_factory, worker_settings, tmp_path
):
    # The worker's own heartbeat timeout stays at its 5-minute default: only Celery's
    # re-delivery of the lost task, and the worker saying it no longer runs it, can be fast.
    release = make_release("lostchild", per_cell=6)
    job = lifecycle.create_job(model_factory(), release, requested_by=owner)
    with running_worker(tmp_path / "worker.log") as proc:
        wait_for(lambda: status_of(job) == JobStatus.RUNNING, 120, "the job to start")
        (child,) = pool_processes(proc)
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 90, "the retried job to end")
    assert job.status == JobStatus.FINISHED, job.log_tail
    assert job.infra_retries == 1
    messages = [e.message for e in job.events.all()]
    assert any("no longer runs this job" in m for m in messages), messages
    assert sum(m.startswith("Started on") for m in messages) == 2


def test_the_reaper_retries_the_job_of_a_vanished_worker_before_the_heartbeat_timeout(
    owner, model_factory, worker_settings, tmp_path
):
    worker_settings.EVAL_HEARTBEAT_TIMEOUT = timedelta(minutes=5)
    worker_settings.EVAL_WORKER_LOST_AFTER = timedelta(seconds=2)
    release = make_release("vanished", per_cell=6)
    job = lifecycle.create_job(model_factory(), release, requested_by=owner)
    with running_worker(tmp_path / "worker1.log") as proc:
        wait_for(lambda: status_of(job) == JobStatus.RUNNING, 120, "the job to start")
        kill_worker(proc)
    with running_worker(tmp_path / "worker2.log"):
        # The killed worker's message stays unacknowledged on the broker: nothing re-delivers
        # it, and the surviving worker answers broadcasts, the lost one does not.
        time.sleep(3)
        assert lifecycle.reap_stale_jobs() == [job.pk]
        assert status_of(job) == JobStatus.QUEUED and job.infra_retries == 1
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the retried job to end")
    assert job.status == JobStatus.FINISHED, job.log_tail
    messages = [e.message for e in job.events.all()]
    assert any("stopped answering" in m for m in messages), messages


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


def test_a_served_model_is_evaluated_by_the_worker_over_http(
    owner, worker_settings, tmp_path, tiny_model
):
    from leaderboard.evals.models import LanguageModel
    from tests.openai_server import OpenAIServer

    release = make_release("served", per_cell=2)
    with OpenAIServer(tiny_model) as server:
        # A served model is named as its server names it (vLLM: the path it loaded).
        model = LanguageModel.objects.create(
            name=str(tiny_model), revision="", precision="float32", endpoint_url=server.url
        )
        job = lifecycle.create_job(model, release, requested_by=owner)
        with running_worker(tmp_path / "worker.log"):
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
    assert Score.objects.filter(job=job).count() == 5 * 2 * 2  # nations x modes x methods
    assert job.repro_card["device"] == "endpoint"
    assert job.repro_card["model"]["base_url"] == server.url
    scored = [body for path, body in server.requests if body.get("echo")]
    generated = [body for path, body in server.requests if not body.get("echo")]
    assert scored and generated  # MC and AJ's judge score prompts; AJ's answers generate


def test_answers_with_nul_bytes_are_stored_and_kept_raw_in_the_job_files(
    owner, worker_settings, tmp_path
):
    import json

    from leaderboard.evals.models import NUL_SUBSTITUTE, LanguageModel

    nul_model = build_tiny_model(tmp_path / "models" / "says-nul", always_next="\x00")
    release = make_release("nul", per_cell=1)
    model = LanguageModel.objects.create(
        name=str(nul_model), revision="local-nul", precision="float32"
    )
    job = lifecycle.create_job(model, release, requested_by=owner)
    with running_worker(tmp_path / "worker.log"):
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FINISHED, job.log_tail
    assert job.infra_retries == 0
    stored = [d.get("answer") for _, d in sample_details.read_job(job.pk, method="aj").values()]
    assert len(stored) == release.items.count()
    assert all(answer and set(answer) == {NUL_SUBSTITUTE} for answer in stored), stored
    raw_file = worker_settings.EVAL_RESULTS_DIR / f"job-{job.pk}" / "answers.jsonl"
    raw = [json.loads(line)["answer"] for line in raw_file.read_text().splitlines()]
    assert len(raw) == len(stored) and all(set(answer) == {"\x00"} for answer in raw), raw


def test_output_postgresql_refuses_fails_as_a_model_problem_without_retries(
    owner, worker_settings, tmp_path
):
    import torch
    from transformers import GPT2LMHeadModel

    from leaderboard.evals.models import LanguageModel

    # NaN weights: every log-likelihood is NaN, which jsonb cannot hold.
    path = build_tiny_model(tmp_path / "models" / "nan-weights")
    weights = GPT2LMHeadModel.from_pretrained(path)
    with torch.no_grad():
        weights.lm_head.weight.fill_(float("nan"))
    weights.save_pretrained(path)
    release = make_release("nan", per_cell=1)
    model = LanguageModel.objects.create(name=str(path), revision="local-nan", precision="float32")
    job = lifecycle.create_job(model, release, requested_by=owner)
    with running_worker(tmp_path / "worker.log"):
        wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == FailureKind.MODEL, job.log_tail
    assert job.infra_retries == 0
    assert "could not be stored" in job.failure_reason


def test_a_running_jobs_log_tail_shows_the_workers_lines_and_the_console_no_progress_bars(
    client, owner, worker_settings, tiny_model, tmp_path
):
    make_release("log", per_cell=2)
    log = tmp_path / "worker.log"
    seen_while_running = ""
    with running_worker(log):
        client.force_login(owner)
        response = client.post(
            reverse("submit"),
            {"name": str(tiny_model), "precision": "float32", "model_type": "base"},
        )
        assert response.status_code == 302, response.content.decode()[-2000:]
        job = EvaluationJob.objects.get()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and status_of(job) not in TERMINAL_STATUSES:
            if job.status == JobStatus.RUNNING and job.log_tail and not seen_while_running:
                seen_while_running = job.log_tail
            time.sleep(0.1)
    assert job.status == JobStatus.FINISHED, job.log_tail
    # The worker's own lines (its stages, lm-eval's log) while the job ran, not "(empty)".
    assert "(0 / " in seen_while_running, seen_while_running
    # lm-eval's tqdm bars, which Celery logs as one WARNING line per refresh, are off.
    bars = [line for line in log.read_text().splitlines() if "%|" in line]
    assert bars == [], log.read_text()[-3000:]
