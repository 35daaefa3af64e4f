"""Evaluation jobs and pipeline runs share one base (progress, heartbeat, log tail) and one
progress reporter."""

from __future__ import annotations

import threading
from unittest import mock

import pytest

from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel
from leaderboard.pipeline_runs.execution import RunCancelled, stage_reporter
from leaderboard.pipeline_runs.models import PipelineRun, RunStatus
from leaderboard.tracking import LOG_TAIL_CHARS, TrackedWork
from tests.factories import make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> EvaluationJob:
    model = LanguageModel.objects.create(name="org/m", revision="a" * 40)
    return EvaluationJob.objects.create(
        model=model, release=make_release(per_cell=2), status=JobStatus.RUNNING, celery_task_id="t"
    )


@pytest.fixture
def run(tmp_path) -> PipelineRun:
    return PipelineRun.objects.create(
        run_dir=str(tmp_path), status=RunStatus.RUNNING, current_stage="extraction"
    )


def test_jobs_and_runs_keep_their_columns_from_one_base():
    shared = {f.name for f in TrackedWork._meta.get_fields()}
    assert shared == {"heartbeat_at", "progress_done", "progress_total", "log_tail"}
    for model in (EvaluationJob, PipelineRun):
        assert issubclass(model, TrackedWork)
        # Same columns as before the base existed: the move needed no migration.
        assert {model._meta.get_field(name).column for name in shared} == shared


@pytest.mark.parametrize("kind", ["job", "run"])
def test_the_log_tail_is_stamped_nul_free_and_bounded(kind, request):
    work = request.getfixturevalue(kind)
    type(work).append_log(work.pk, "generated: \x00")
    type(work).append_log(work.pk, "x" * LOG_TAIL_CHARS)
    work.refresh_from_db()
    assert len(work.log_tail) == LOG_TAIL_CHARS and work.log_tail.endswith("x\n")
    work.log_tail = ""
    work.add_log_line("generated: \x00")
    assert work.log_tail.startswith("[") and work.log_tail.endswith("] generated: \ufffd\n")


def test_a_jobs_progress_is_written_at_most_once_a_second_and_at_the_end(job):
    report = lifecycle.progress_reporter(job, "t", threading.Event())
    with mock.patch("leaderboard.tracking.time.monotonic", side_effect=[10.0, 10.5, 10.6]):
        report("MC", 1, 4)
        report("MC", 2, 4)  # within the second: skipped
        job.refresh_from_db()
        assert (job.progress_stage, job.progress_done, job.progress_total) == ("MC", 1, 4)
        report("MC", 4, 4)  # the end of a stage is always written
    job.refresh_from_db()
    assert job.progress_done == 4 and job.heartbeat_at is not None


def test_a_job_reporter_stops_the_work_once_cancelled_or_taken_over(job):
    cancelled = threading.Event()
    report = lifecycle.progress_reporter(job, "t", cancelled)
    cancelled.set()
    with pytest.raises(lifecycle.JobCancelled):
        report("MC", 1, 4)
    with pytest.raises(lifecycle.JobCancelled):
        lifecycle.progress_reporter(job, "another-token", threading.Event())("MC", 1, 4)


def test_a_run_reporter_writes_through_the_same_reporter_and_stops_once_cancelled(run):
    report = stage_reporter(run.pk, "extraction", None)
    report("extraction", 2, 8)
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total, run.progress_percent) == (2, 8, 25)
    PipelineRun.objects.filter(pk=run.pk).update(status=RunStatus.CANCELLED)
    with pytest.raises(RunCancelled, match="stopped while extraction was running"):
        report("extraction", 8, 8)


def test_a_progress_report_writes_the_log_lines_waiting_for_the_next_one(job):
    import logging

    from leaderboard.tracking import log_tail

    report = lifecycle.progress_reporter(job, "t", threading.Event())
    with log_tail(EvaluationJob, job.pk):
        report("MC", 0, 4)  # the stage's first report logs a line: written at once
        logging.getLogger("evaluation").info("Running loglikelihood requests")  # held back
        job.refresh_from_db()
        assert "Running loglikelihood" not in job.log_tail
        with mock.patch("leaderboard.tracking.time.monotonic", return_value=1e9):
            report("MC", 1, 4)
        job.refresh_from_db()
        assert "Running loglikelihood requests" in job.log_tail
