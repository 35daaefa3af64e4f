"""Finishing a job is one step for evaluations and alignments: under the job's lock, only for
the delivery that holds it, and told to the apps above through `job_finished` after commit."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from leaderboard.evals import lifecycle
from leaderboard.evals.alignment import register_aligned_model
from leaderboard.evals.models import EvaluationJob, JobKind, JobStatus, LanguageModel, ModelType
from leaderboard.evals.signals import job_finished

CARD = {"split": {"train": {"uids": ["u1"]}}, "exclude_uids": ["u1"], "alignment": {}}


@pytest.fixture(autouse=True)
def no_broker_sends():
    with mock.patch("leaderboard.evals.tasks.run_evaluation.apply_async") as send:
        yield send


@pytest.fixture
def finished_jobs():
    sent: list[EvaluationJob] = []

    def receive(sender: type[EvaluationJob], job: EvaluationJob, **kwargs: object) -> None:
        sent.append(job)

    job_finished.connect(receive, sender=EvaluationJob)
    yield sent
    job_finished.disconnect(receive, sender=EvaluationJob)


def running(model: LanguageModel, release, kind: str = JobKind.EVALUATE) -> EvaluationJob:
    return EvaluationJob.objects.create(
        model=model,
        release=release,
        kind=kind,
        status=JobStatus.RUNNING,
        celery_task_id="token-1",
        progress_total=5,
        alignment={"target": {"nation": "us"}, "narrow": {"mode": ["quoted"]}}
        if kind == JobKind.ALIGN
        else {},
    )


def merged_model(tmp_path: Path) -> Path:
    (tmp_path / "merged").mkdir()
    (tmp_path / "merged" / "config.json").write_text("{}")
    return tmp_path / "merged"


def test_it_finishes_the_job_and_tells_the_apps_above_after_commit(
    model, release, finished_jobs, django_capture_on_commit_callbacks
):
    job = running(model, release)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        finished = lifecycle.finish(job, "token-1", {"seed": 1}, lambda locked: "All stored")
    assert finished is not None
    job.refresh_from_db()
    assert (job.status, job.repro_card, job.progress_done) == (JobStatus.FINISHED, {"seed": 1}, 5)
    assert job.events.last().message == "All stored"
    assert finished_jobs == []  # nothing is visible to other connections before commit
    for callback in callbacks:
        callback()
    assert [j.pk for j in finished_jobs] == [job.pk]


def test_a_delivery_that_lost_the_job_publishes_nothing(
    model, release, finished_jobs, django_capture_on_commit_callbacks
):
    job = running(model, release)
    publish = mock.Mock(return_value="stored")
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.finish(job, "another-token", {}, publish) is None
    publish.assert_not_called()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and finished_jobs == []


def test_an_alignment_finishes_through_the_same_step_and_queues_its_held_out_evaluations(
    model, release, tmp_path, finished_jobs, django_capture_on_commit_callbacks
):
    job = running(model, release, JobKind.ALIGN)
    with django_capture_on_commit_callbacks(execute=True):
        aligned = register_aligned_model(job, "token-1", merged_model(tmp_path), CARD)
    assert aligned is not None and aligned.model_type == ModelType.ALIGNED
    job.refresh_from_db()
    assert (job.status, job.produced_model, job.repro_card) == (JobStatus.FINISHED, aligned, CARD)
    assert [j.pk for j in finished_jobs] == [job.pk]
    follow_ups = EvaluationJob.objects.filter(kind=JobKind.EVALUATE, exclude_uids=["u1"])
    assert {j.model for j in follow_ups} == {aligned, model}


def test_an_alignment_whose_delivery_was_taken_over_registers_no_model(
    model, release, tmp_path, finished_jobs, django_capture_on_commit_callbacks
):
    job = running(model, release, JobKind.ALIGN)
    with django_capture_on_commit_callbacks(execute=True):
        assert register_aligned_model(job, "stale", merged_model(tmp_path), CARD) is None
    assert not LanguageModel.objects.filter(model_type=ModelType.ALIGNED).exists()
    assert EvaluationJob.objects.count() == 1 and finished_jobs == []
