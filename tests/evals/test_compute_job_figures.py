"""`manage.py compute_job_figures`: jobs published before agreement and disparity were stored
get them once, off any page request."""

from __future__ import annotations

import io

from django.core.management import call_command

from leaderboard.evals.models import JobAgreement, JobDisparity
from tests.factories import evaluate, make_model, make_release


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("compute_job_figures", *args, stdout=out)
    return out.getvalue()


def test_jobs_without_stored_figures_get_them_once(db):
    release = make_release(per_cell=6, signal=False)
    jobs = [evaluate(make_model(name), release) for name in ("org/a", "org/b")]
    assert not JobAgreement.objects.exists() and not JobDisparity.objects.exists()
    assert "Computed the figures of 2 of 2 jobs." in run()
    for job in jobs:
        assert JobAgreement.objects.filter(job=job).exists()
        assert JobDisparity.objects.filter(job=job).exists()
    assert "Every finished job has its agreement and disparity stored." in run()


def test_it_can_be_limited_to_one_release(db):
    release = make_release(per_cell=6, signal=False)
    evaluate(make_model("org/a"), release)
    assert "Every finished job" in run("--release", "another")
    assert not JobAgreement.objects.exists()
