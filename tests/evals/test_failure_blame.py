"""Issue 19, item 4: who is blamed for a failure is the contract (`evaluation.errors`), not an
unwritten rule. A benchmark registered only here raises each kind of error from `evaluate`;
the job runs through the real task (claim, heartbeat, runner, failure handling) in process,
and each test checks what becomes of the job and who is told what."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from evaluation.benchmarks import register, unregister
from evaluation.errors import ModelError, SetupError
from evaluation.results import EvaluationResult
from leaderboard.catalog.models import Benchmark, DatasetRelease
from leaderboard.catalog.registry_sync import sync_benchmarks
from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, FailureKind, JobStatus, LanguageModel
from leaderboard.evals.tasks import run_evaluation
from tests.toy_benchmark.definition import ToyBenchmark

pytestmark = pytest.mark.django_db(transaction=True)


class FailingBenchmark(ToyBenchmark):
    """The toy benchmark whose `evaluate` raises whatever the test hands it."""

    slug = "failing"
    name = "Failing toy benchmark"

    def __init__(self) -> None:
        self.error: Exception = RuntimeError("no error chosen")

    def evaluate(self, spec: Any, release_dir: Path, **options: Any) -> EvaluationResult:
        raise self.error


FAILING = FailingBenchmark()


@pytest.fixture
def failing_release(settings, tmp_path: Path) -> Iterator[DatasetRelease]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVAL_RESULTS_DIR = tmp_path / "results"
    register(FAILING.slug, f"{__name__}:FAILING")
    try:
        sync_benchmarks(Benchmark)
        call_command(
            "import_release",
            "--benchmark",
            FAILING.slug,
            str(FAILING.demo_dir),
            "--version",
            "failing-1",
            "--publish",
            stdout=StringIO(),
        )
        yield DatasetRelease.objects.get(version="failing-1")
    finally:
        unregister(FAILING.slug)


@pytest.fixture
def sends() -> Iterator[mock.MagicMock]:
    """What would reach the broker: the job's deliveries are run here, in process."""
    with mock.patch("leaderboard.evals.tasks.run_evaluation.apply_async") as send:
        yield send


def run_raising(error: Exception, job: EvaluationJob) -> EvaluationJob:
    """Deliver the job once, through the task a worker runs, with `evaluate` raising ERROR."""
    FAILING.error = error
    job.refresh_from_db()
    run_evaluation.apply(args=[job.pk, job.celery_task_id])
    job.refresh_from_db()
    return job


@pytest.fixture
def job(failing_release: DatasetRelease, model: LanguageModel, owner, sends) -> EvaluationJob:
    mail.outbox.clear()
    return lifecycle.create_job(model, failing_release, requested_by=owner)


def test_a_model_error_is_final_and_its_reason_is_shown_to_the_submitter(job, owner_client, sends):
    sent = sends.call_count
    job = run_raising(ModelError("the model refused every prompt"), job)
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == FailureKind.MODEL
    assert job.infra_retries == 0 and sends.call_count == sent  # never sent again
    assert job.failure_reason == "the model refused every prompt"
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Model failure" in page and "the model refused every prompt" in page
    [message] = mail.outbox
    assert message.to == ["owner@example.org"] and "the model refused every prompt" in message.body


def test_a_setup_error_is_final_reported_to_operators_and_not_blamed_on_the_model(
    job, owner_client, admin_client, sends, caplog
):
    sent = sends.call_count
    with caplog.at_level(logging.ERROR, logger="leaderboard.evals.lifecycle"):
        job = run_raising(SetupError("judge gpt-judge: could not load /models/judge"), job)
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == FailureKind.SETUP
    assert job.infra_retries == 0 and sends.call_count == sent  # never sent again
    # The operators: an ERROR in the log and a category of their own in the admin.
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "could not load /models/judge" in record.getMessage()
    changelist = reverse("admin:evals_evaluationjob_changelist")
    listed = admin_client.get(changelist, {"failure_kind__exact": "setup"}).context["cl"]
    assert [j.pk for j in listed.result_list] == [job.pk]
    # The submitter: told what failed and that it is not their model's fault.
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Site set-up failure" in page and "Model failure" not in page
    assert "not a fault of the model" in page
    [message] = mail.outbox
    assert "(site set-up)" in message.body and "not a fault of the model" in message.body


def test_any_other_error_is_retried_as_infrastructure_up_to_the_limit(
    job, owner_client, settings, sends
):
    settings.EVAL_MAX_INFRA_RETRIES = 1
    sent = sends.call_count
    # A ValueError is no longer the model's fault: only ModelError says so.
    job = run_raising(ValueError("could not convert string to float: 'n/a'"), job)
    assert job.status == JobStatus.QUEUED and job.failure_kind == FailureKind.NONE
    assert job.infra_retries == 1 and sends.call_count == sent + 1  # sent again
    assert "Infrastructure problem, retry 1 of 1" in job.events.last().message
    assert mail.outbox == []  # nothing to tell the submitter yet
    job = run_raising(RuntimeError("CUDA error: an illegal memory access"), job)
    assert job.status == JobStatus.FAILED and job.failure_kind == FailureKind.INFRA
    assert sends.call_count == sent + 1
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Infrastructure failure" in page and "illegal memory access" in page
