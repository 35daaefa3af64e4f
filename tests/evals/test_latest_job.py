"""The latest finished job of a model on a release: one definition (the job and model
QuerySets) that the boards, the model page, the disparity API and the alignment effect read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import EvaluationJob, JobKind, JobStatus, LanguageModel
from tests.factories import finished_job, make_model, make_release

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def held_out(job: EvaluationJob, release: DatasetRelease) -> EvaluationJob:
    job.exclude_uids = [release.items.first().uid]
    job.save()
    return job


def test_it_takes_the_newest_finished_evaluation(release):
    model = make_model("org/model")
    finished_job(model, release, finished_at=timezone.now() - timedelta(days=2))
    newest = finished_job(model, release, finished_at=timezone.now() - timedelta(days=1))
    # Neither a later failure nor an alignment run is a finished evaluation.
    EvaluationJob.objects.create(model=model, release=release, attempt=9, status=JobStatus.FAILED)
    EvaluationJob.objects.create(
        model=model, release=release, kind=JobKind.ALIGN, status=JobStatus.FINISHED,
        finished_at=timezone.now(),
    )  # fmt: skip

    assert model.jobs.filter(release=release).latest_finished() == newest


def test_a_full_release_run_comes_before_a_newer_held_out_one(release):
    model = make_model("org/model")
    full = finished_job(model, release, finished_at=timezone.now() - timedelta(days=1))
    held = held_out(finished_job(model, release), release)

    assert model.jobs.filter(release=release).latest_finished() == full
    full.delete()
    assert model.jobs.filter(release=release).latest_finished() == held


def test_it_is_none_without_a_finished_evaluation_on_the_release(release):
    model = make_model("org/model")
    other = make_release("r2", per_cell=1)
    finished_job(model, other)
    assert model.jobs.filter(release=release).latest_finished() is None


def test_models_carry_their_latest_rankable_job_on_the_release(release):
    ranked = make_model("org/ranked")
    finished_job(ranked, release, finished_at=timezone.now() - timedelta(days=1))
    newest = finished_job(ranked, release)
    aligned = make_model("org/aligned", model_type="aligned")
    finished_job(aligned, release)
    only_held_out = make_model("org/held-out")
    held_out(finished_job(only_held_out, release), release)
    make_model("org/never-run")

    latest = {m.name: m.latest_job_id for m in LanguageModel.objects.with_latest_job(release)}

    assert latest == {
        "org/ranked": newest.pk,
        "org/aligned": None,  # fine-tuned on the benchmark's items: never ranked
        "org/held-out": None,
        "org/never-run": None,
    }
    assert [m.name for m in LanguageModel.objects.on_release(release)] == ["org/ranked"]
    assert list(LanguageModel.objects.latest_jobs(release)) == [newest]
    by_model = EvaluationJob.objects.rankable().filter(release=release).newest_by_model()
    assert by_model == {ranked.pk: (newest.pk, newest.finished_at)}


def test_newest_by_model_picks_the_job_with_latest_job_picks(release):
    models = [make_model(f"org/model-{i}") for i in range(4)]
    now = timezone.now()
    for i, model in enumerate(models):
        for age in range(i + 1):  # ties in finish time too: the higher id is the newer
            finished_job(model, release, finished_at=now - timedelta(days=age % 2))

    by_model = EvaluationJob.objects.rankable().filter(release=release).newest_by_model()

    latest = LanguageModel.objects.on_release(release)
    assert {m.pk: m.latest_job_id for m in latest} == {m: job for m, (job, _) in by_model.items()}


def test_nothing_outside_the_querysets_orders_jobs_by_when_they_finished():
    """Two hand-written copies of "the latest finished job" once disagreed (one compared the
    status with a bare string); every reader goes through the QuerySets."""
    owner = ROOT / "leaderboard" / "evals" / "models.py"
    copies = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "leaderboard").rglob("*.py")
        if path != owner
        and ('"-finished_at", "-id"' in (text := path.read_text()) or 'status="finished"' in text)
    ]
    assert copies == []
