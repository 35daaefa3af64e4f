"""What an alignment on DiverValue-Bench queues out of domain: the aligned model and (unless
already scored on the whole release) its base on UF-P-4's current release; with no UF-P-4
release published, nothing, and the job says so."""

from __future__ import annotations

import pytest

from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.alignment import queue_out_of_domain
from leaderboard.evals.models import EvaluationJob, JobKind, JobStatus, LanguageModel, ModelType
from tests.factories import dvb_release, finished_job, make_model

pytestmark = pytest.mark.django_db


def _aligned_job() -> tuple[EvaluationJob, LanguageModel]:
    base = make_model("org/base")
    aligned = LanguageModel.objects.create(
        name="org/base+dpo", revision="c" * 40, model_type=ModelType.ALIGNED, base_model=base
    )
    job = EvaluationJob.objects.create(
        model=base,
        release=dvb_release(),
        kind=JobKind.ALIGN,
        status=JobStatus.FINISHED,
        produced_model=aligned,
        alignment={"target": {"gender": "Female"}},
    )
    return job, aligned


def _ufp4() -> DatasetRelease:
    from evaluation.benchmarks import get_benchmark

    return import_release(
        get_benchmark("ufp4").demo_dir,
        benchmark="ufp4",
        version="ufp4-q1",
        licence="demo",
        publish=True,
    ).release


def test_without_a_uf_p_4_release_nothing_is_queued_and_the_job_says_why():
    job, aligned = _aligned_job()
    queue_out_of_domain(job, aligned)
    job.refresh_from_db()
    assert "out_of_domain" not in job.alignment
    assert not EvaluationJob.objects.filter(release__benchmark__slug="ufp4").exists()
    assert job.events.filter(message__startswith="Not scored out of domain").exists()


def test_both_models_are_queued_on_every_item_unless_the_base_was_scored_already():
    job, aligned = _aligned_job()
    ufp4 = _ufp4()
    queue_out_of_domain(job, aligned)
    queued = EvaluationJob.objects.filter(release=ufp4)
    assert sorted(queued.values_list("model__name", flat=True)) == ["org/base", "org/base+dpo"]
    assert all(j.exclude_uids == [] and j.methods == ["opa"] for j in queued)
    job.refresh_from_db()
    assert job.alignment["out_of_domain"] == [{"benchmark": "ufp4", "release": ufp4.pk}]

    # A second alignment of the same base: its finished UF-P-4 run is the baseline again.
    queued.filter(model__name="org/base").update(status=JobStatus.FAILED)
    finished_job(job.model, ufp4, methods=["opa"])
    again = EvaluationJob.objects.create(
        model=job.model,
        release=job.release,
        kind=JobKind.ALIGN,
        attempt=2,
        status=JobStatus.FINISHED,
        alignment={"target": {"gender": "Male"}},
    )
    other = LanguageModel.objects.create(
        name="org/base+dpo2", revision="d" * 40, model_type=ModelType.ALIGNED, base_model=job.model
    )
    queue_out_of_domain(again, other)
    assert EvaluationJob.objects.filter(release=ufp4, model=job.model).count() == 2  # no new one
    assert EvaluationJob.objects.filter(release=ufp4, model=other).count() == 1
