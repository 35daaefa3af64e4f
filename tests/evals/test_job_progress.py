"""The job page's progress line says the job's final state once it ended: a failed job is not
still "loading model 0/520", a finished one not "paa: judge 66%"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel
from tests.factories import make_release

pytestmark = pytest.mark.django_db


def job_in(status: str, stage: str, done: int, total: int) -> EvaluationJob:
    model = LanguageModel.objects.create(name=f"org/{status}", revision="a" * 40)
    return EvaluationJob.objects.create(
        model=model,
        release=make_release(f"r-{status}", signal=False),
        status=status,
        progress_stage=stage,
        progress_done=done,
        progress_total=total,
    )


@pytest.mark.parametrize(
    ("status", "stage", "done", "total", "label"),
    [
        (JobStatus.RUNNING, "opa", 130, 520, "25% opa (130 / 520)"),
        (JobStatus.FAILED, "loading model", 0, 520, "Failed, stopped at loading model (0 / 520)"),
        (JobStatus.FINISHED, "paa: judge tiny", 520, 780, "100% finished"),
    ],
)
def test_the_progress_line_shows_the_final_state_once_the_job_ended(
    client, status, stage, done, total, label
):
    job = job_in(status, stage, done, total)
    page = client.get(job.get_absolute_url()).content.decode()
    assert f'<span id="job-progress-label">{label}</span>' in page
    assert client.get(reverse("job-status", args=[job.pk])).json()["label"] == label
