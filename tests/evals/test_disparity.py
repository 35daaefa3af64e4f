"""A job's disparity is computed once from its stored per-item results and kept."""

from __future__ import annotations

from collections import defaultdict

import pytest

from evaluation.benchmarks.disparity import ItemValue, disparity
from evaluation.benchmarks.divervalue.definition import BENCHMARK as DVB
from evaluation.results import EvaluationResult, ReproCard, SampleRecord, ScoreRow
from leaderboard.evals import disparity as job_disparity
from leaderboard.evals.models import EvaluationJob, JobDisparity, JobStatus, SampleResult
from leaderboard.evals.runner import store_results
from tests.factories import (
    SEED,
    dvb_evaluate,
    dvb_release,
    make_model,
    make_release,
    repro_card,
)

pytestmark = pytest.mark.django_db
MARGINS = {"United Kingdom": 3.0, "Japan": 0.5, "Nigeria": -1.0, "Brazil": 1.5, "Fiji": -9.0}


def test_it_computes_each_dimension_from_stored_results_once_then_reads_it(
    django_assert_max_num_queries,
):
    release = dvb_release()
    job = dvb_evaluate(make_model("org/dvb"), release, MARGINS)
    found = job_disparity.for_jobs([job])[job.pk]
    # A row per dimension of each method the job has scores for (not PAA, which it did not run).
    assert [(d.method, d.dimension) for d in found] == [("opa", d.key) for d in DVB.slices]
    assert JobDisparity.objects.filter(job=job).count() == len(DVB.slices)
    with django_assert_max_num_queries(1):
        again = job_disparity.for_jobs([job])[job.pk]
    assert again == found


def test_its_numbers_are_the_item_means_of_each_country_with_users_resampled():
    release = dvb_release()
    job = dvb_evaluate(make_model("org/dvb"), release, MARGINS)
    by_country = job_disparity.for_jobs([job])[job.pk][0]
    # Independently: each country's mean of its items' OPA, Fiji (2 items) greyed.
    per_country: dict[str, list[float]] = defaultdict(list)
    items = []
    for sample in job.samples.select_related("item"):
        country = sample.item.slices["birth_country"]
        per_country[country].append(sample.details["outcome"]["opa"])
        items.append(
            ItemValue(sample.details["outcome"]["opa"], country, sample.item.data["user_id"])
        )
    means = {c: sum(v) / len(v) for c, v in per_country.items() if len(v) >= 10}
    assert by_country.greyed == {"Fiji": 2}
    assert by_country.value == pytest.approx(max(means.values()) - min(means.values()))
    assert by_country.best is not None and by_country.best.value == max(means, key=means.get)
    assert by_country.worst is not None and by_country.worst.value == min(means, key=means.get)
    # The stored interval is the one users resampled with the run's seed give.
    expected = disparity(DVB.method("opa"), DVB.slice_dimension("birth_country"), items, SEED)
    assert (by_country.ci_low, by_country.ci_high) == pytest.approx(
        (expected.ci_low, expected.ci_high)
    )
    assert [g.value for g in by_country.lowest] == [g.value for g in expected.lowest]


def test_publishing_a_jobs_results_stores_its_disparities(tmp_path):
    release = make_release("r1", per_cell=12, signal=False)
    model = make_model("org/navab")
    job = EvaluationJob.objects.create(
        model=model, release=release, status=JobStatus.RUNNING, celery_task_id="t", methods=["mc"]
    )
    strong = {"us", "uk"}
    samples = [
        SampleRecord(
            uid=item.uid,
            method="mc",
            slices=dict(item.slices),
            value=float(correct),
            correct=correct,
            chosen="A",
            parts={"half": "pos"},
        )
        for i, item in enumerate(release.items.order_by("uid"))
        for correct in [item.slices["nation"] in strong or i % 3 == 0]
    ]
    card = ReproCard(**repro_card(model, release, ["mc"]))
    # A disparity is of a method the job has a score for.
    overall = sum(s.value for s in samples) / len(samples)
    score = ScoreRow(
        slices={}, method="mc", metric="acc", value=overall, n=len(samples), stderr=0.01,
        ci_low=overall - 0.02, ci_high=overall + 0.02,
    )  # fmt: skip
    assert store_results(
        job, "t", EvaluationResult(scores=[score], samples=samples, card=card), tmp_path
    )
    stored = {row.dimension: row for row in JobDisparity.objects.filter(job=job, method="mc")}
    assert set(stored) == {"nation", "mode"}
    nation = stored["nation"]
    assert nation.value == pytest.approx(
        nation.detail["best"]["mean"] - nation.detail["worst"]["mean"]
    )
    assert nation.detail["best"]["value"] in strong
    assert nation.ci_low is not None and nation.ci_low <= nation.value <= nation.ci_high


def test_it_says_so_when_items_hold_no_value_of_the_primary_metric():
    release = dvb_release()
    job = dvb_evaluate(make_model("org/dvb"), release, MARGINS)
    first = job.samples.first()
    assert first is not None
    first.details = {"user_id": "x"}
    first.save()
    found = job_disparity.for_jobs([job])[job.pk][0]
    assert found.value is None
    assert found.reason == "1 of 50 items hold no per-item value of OPA"


def test_a_method_the_run_has_no_scores_for_gets_no_disparity():
    release = dvb_release()
    job = dvb_evaluate(make_model("org/dvb"), release, MARGINS)
    job.repro_card = {**job.repro_card, "not_run": {"paa": "no verdicts: ..."}}
    job.save(update_fields=["repro_card"])
    found = job_disparity.compute(job)
    assert {d.method for d in found} == {"opa"}


def test_a_method_with_per_item_records_but_no_score_gets_no_disparity():
    # A run from before cards said why (or any run) that kept PAA's per-item records without
    # a PAA score: a gap between its slices would read "0.0 pts" where there is no score.
    release = dvb_release()
    job = dvb_evaluate(make_model("org/dvb"), release, MARGINS)
    SampleResult.objects.bulk_create(
        SampleResult(job=job, item=s.item, method="paa", value=0.0, correct=None)
        for s in job.samples.select_related("item")
    )
    assert {d.method for d in job_disparity.compute(job)} == {"opa"}
    assert {d.method for d in job_disparity.for_jobs([job])[job.pk]} == {"opa"}


def test_rows_stored_for_a_method_without_scores_are_not_shown():
    release = dvb_release()
    job = dvb_evaluate(make_model("org/dvb"), release, MARGINS)
    job_disparity.compute(job)
    JobDisparity.objects.create(job=job, method="paa", dimension="region", metric="paa", value=0.0)
    assert {d.method for d in job_disparity.for_jobs([job])[job.pk]} == {"opa"}


def test_a_slice_of_one_user_is_never_the_best_or_the_worst():
    # Twelve items each (above min_n), but Japan's are one user's: no interval, not ranked.
    items = [ItemValue(0.9, "Japan", "jp0") for _ in range(12)]
    items += [ItemValue(0.5 + 0.01 * i, "Brazil", f"br{i % 3}") for i in range(12)]
    items += [ItemValue(0.2 + 0.01 * i, "Nigeria", f"ng{i % 3}") for i in range(12)]
    found = disparity(DVB.method("opa"), DVB.slice_dimension("birth_country"), items, SEED)
    assert found.greyed == {"Japan": 12}
    assert found.best is not None and found.best.value == "Brazil"
    assert found.worst is not None and found.worst.value == "Nigeria"
