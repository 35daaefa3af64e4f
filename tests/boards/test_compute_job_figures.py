"""`manage.py compute_job_figures`: jobs published before agreement, disparity and rank
replicates were stored get them once, off any page request."""

from __future__ import annotations

import io

from django.core.management import call_command

from leaderboard.boards.models import RankReplicates
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
    # NaVAB's default boards of MC and AJ, five nation columns each (its other methods: no scores).
    assert RankReplicates.objects.filter(job__in=jobs).count() == 2 * 2 * 5
    again = run()
    assert "Every finished job has its agreement and disparity stored." in again
    assert "Rank replicates drawn where missing on 4 default boards." in again


def test_it_can_be_limited_to_one_release(db):
    release = make_release(per_cell=6, signal=False)
    evaluate(make_model("org/a"), release)
    assert "Every finished job" in run("--release", "another")
    assert not JobAgreement.objects.exists()
