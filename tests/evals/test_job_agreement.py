"""A job's method agreement is computed once from its stored per-item verdicts and kept: when
its results are published, or on first read for jobs published before."""

from __future__ import annotations

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.results import EvaluationResult, ReproCard, SampleRecord, ScoreRow
from leaderboard.evals import agreement
from leaderboard.evals.models import EvaluationJob, JobAgreement, JobStatus
from leaderboard.evals.runner import store_results
from tests.boards.test_agreement import verdicts
from tests.factories import dvb_release, finished_job, make_model, make_release, repro_card

pytestmark = pytest.mark.django_db
NAVAB = get_benchmark("navab")
MC_AJ = agreement.method_pairs(NAVAB)[0]


def test_publishing_a_jobs_results_stores_its_agreement_on_every_pair(tmp_path):
    release = make_release("r1", per_cell=4, signal=False)
    model = make_model("org/navab")
    job = EvaluationJob.objects.create(
        model=model, release=release, status=JobStatus.RUNNING, celery_task_id="t",
        methods=["mc", "aj"],
    )  # fmt: skip
    # MC aligned everywhere, AJ in the US only.
    samples = [
        SampleRecord(
            uid=item.uid,
            method=method,
            slices=dict(item.slices),
            value=float(correct),
            correct=correct,
            chosen="A",
            parts={"half": "pos"},
        )
        for item in release.items.order_by("uid")
        for method, correct in [("mc", True), ("aj", item.slices["nation"] == "us")]
    ]
    scores = [
        ScoreRow(
            slices={},
            method=method,
            metric="acc",
            value=0.5,
            n=len(samples) // 2,
            stderr=0.01,
            ci_low=0.4,
            ci_high=0.6,
        )
        for method in ("mc", "aj")
    ]
    card = ReproCard(**repro_card(model, release, ["mc", "aj"]))
    assert store_results(
        job, "t", EvaluationResult(scores=scores, samples=samples, card=card), tmp_path
    )
    stored = {row.pair: row.detail for row in JobAgreement.objects.filter(job=job)}
    # A row for every declared pair; empty where the run has no verdicts of one method.
    assert stored.keys() == {"mc-aj", "mc-aj_ref", "aj-aj_ref"}
    assert stored["mc-aj_ref"] == stored["aj-aj_ref"] == {}
    overall = stored["mc-aj"]["overall"]
    assert (overall["n"], overall["rate_a"], overall["rate_b"]) == (40, 1.0, 0.2)
    assert len(stored["mc-aj"]["items"]) == agreement.MAX_ITEMS


def test_a_job_published_before_gets_its_agreement_on_first_read_then_reads_it(
    django_assert_max_num_queries,
):
    release = make_release("r1", per_cell=4, signal=False)
    job = finished_job(make_model("org/navab"), release, methods=["mc", "aj"])
    verdicts(job, "mc", True)
    verdicts(job, "aj", {"us": True})
    assert not JobAgreement.objects.exists()
    found = agreement.for_jobs([job.pk], MC_AJ, NAVAB)[job.pk]
    assert (found.overall.rate_a, found.overall.rate_b) == (1.0, pytest.approx(0.2))
    assert JobAgreement.objects.filter(job=job).count() == 3
    with django_assert_max_num_queries(1):
        again = agreement.for_jobs([job.pk], MC_AJ, NAVAB)
    assert again == {job.pk: found}


def test_a_job_with_one_method_is_stored_empty_and_not_read_again(
    django_assert_max_num_queries,
):
    release = make_release("r1", per_cell=4, signal=False)
    job = finished_job(make_model("org/mc-only"), release, methods=["mc"])
    verdicts(job, "mc", True)
    assert agreement.for_jobs([job.pk], MC_AJ, NAVAB) == {}
    assert JobAgreement.objects.get(job=job, pair="mc-aj").detail == {}
    with django_assert_max_num_queries(1):
        assert agreement.for_jobs([job.pk], MC_AJ, NAVAB) == {}


def test_an_unfinished_job_is_not_computed():
    release = make_release("r1", per_cell=4, signal=False)
    job = finished_job(make_model("org/navab"), release, methods=["mc", "aj"])
    verdicts(job, "mc", True)
    verdicts(job, "aj", True)
    EvaluationJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    assert agreement.for_jobs([job.pk], MC_AJ, NAVAB) == {}
    assert not JobAgreement.objects.exists()


def test_a_stored_agreement_reads_back_as_computed_users_and_slices_included():
    release = dvb_release()
    job = finished_job(make_model("org/dvb"), release, methods=["opa", "paa"])
    verdicts(job, "opa", True)
    verdicts(job, "paa", {"Fiji": True, "Japan": True})
    dvb = get_benchmark("divervalue")
    (pair,) = agreement.method_pairs(dvb)
    found = agreement.for_jobs([job.pk], pair, dvb)[job.pk]
    assert found.overall.clusters == 13  # 4 countries x 3 users, and Fiji's one
    assert [s.label for s in found.flagged][:1] == ["Brazil"]
    assert agreement.PairAgreement.from_dict(found.to_dict(), dvb) == found
