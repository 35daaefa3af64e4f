"""Submitters choose which benchmarks to evaluate on (default: all with a published release);
a submission queues one job per benchmark, on its current release."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import EvaluationJob
from leaderboard.evals.submission import Submission, SubmissionError, submit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def no_broker_sends():
    with mock.patch("leaderboard.evals.tasks.run_evaluation.apply_async") as send:
        yield send


@pytest.fixture
def divervalue(db: None) -> DatasetRelease:
    demo = get_benchmark("divervalue").demo_dir
    return import_release(
        demo, benchmark="divervalue", version="dvb-1", licence="cc-by-4.0", publish=True
    ).release


def jobs_by_benchmark() -> dict[str, list[str]]:
    return {
        job.release.benchmark.slug: job.methods
        for job in EvaluationJob.objects.select_related("release__benchmark")
    }


def test_it_evaluates_on_every_benchmark_with_a_published_release(owner, release, divervalue):
    jobs = submit(Submission(name="org/a", revision=COMMIT), owner)

    assert [job.release for job in jobs] == [release, divervalue]
    assert jobs_by_benchmark() == {"navab": ["mc", "aj", "aj_ref"], "divervalue": ["opa", "paa"]}
    assert jobs[0].model == jobs[1].model


def test_the_submitter_chooses_the_benchmarks(owner, release, divervalue):
    [job] = submit(Submission(name="org/a", revision=COMMIT, benchmarks=["divervalue"]), owner)

    assert job.release == divervalue
    assert jobs_by_benchmark() == {"divervalue": ["opa", "paa"]}


def test_a_benchmark_without_a_published_release_is_refused_by_name(owner, release):
    with pytest.raises(SubmissionError, match=r"No published release .* for divervalue") as exc:
        submit(Submission(name="org/a", revision=COMMIT, benchmarks=["divervalue"]), owner)

    assert exc.value.field == "benchmarks"
    assert not EvaluationJob.objects.exists()


def test_a_submission_on_several_benchmarks_counts_once_against_the_daily_limit(
    owner, release, divervalue, settings
):
    settings.SUBMISSIONS_PER_DAY = 2
    submit(Submission(name="org/a", revision=COMMIT), owner)
    submit(Submission(name="org/b", revision=COMMIT), owner)

    assert EvaluationJob.objects.count() == 4
    with pytest.raises(SubmissionError, match="limit of 2"):
        submit(Submission(name="org/c", revision=COMMIT), owner)


def test_the_form_offers_each_benchmark_ticked_and_takes_the_choice(
    client, owner, release, divervalue
):
    client.force_login(owner)
    page = client.get(reverse("submit")).content.decode()
    for slug, label in (("navab", "NaVAB (release r1)"), ("divervalue", "DiverValue-Bench")):
        assert f'value="{slug}"' in page and label in page
    assert page.count("checked") >= 2

    response = client.post(
        reverse("submit"),
        {
            "name": "org/a",
            "revision": COMMIT,
            "precision": "bfloat16",
            "model_type": "base",
            "benchmarks": ["navab"],
        },
    )

    [job] = EvaluationJob.objects.all()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.release == release


def test_the_form_sends_a_submission_on_several_benchmarks_to_the_models_page(
    client, owner, release, divervalue
):
    client.force_login(owner)
    response = client.post(
        reverse("submit"),
        {"name": "org/a", "revision": COMMIT, "precision": "bfloat16", "model_type": "base"},
    )

    assert EvaluationJob.objects.count() == 2
    assert response.status_code == 302
    assert response["Location"] == EvaluationJob.objects.first().model.get_absolute_url()


def test_the_form_refuses_an_unknown_benchmark(client, owner, release):
    client.force_login(owner)
    response = client.post(
        reverse("submit"),
        {
            "name": "org/a",
            "revision": COMMIT,
            "precision": "bfloat16",
            "model_type": "base",
            "benchmarks": ["nope"],
        },
    )

    assert response.status_code == 200
    assert "not one of the available choices" in response.content.decode()
    assert not EvaluationJob.objects.exists()


def test_the_api_takes_the_benchmarks_and_answers_with_every_job(owner, release, divervalue):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")

    response = api.post(
        "/api/models/",
        {"name": "org/a", "revision": COMMIT, "benchmarks": ["divervalue"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert [job["release"] for job in response.json()["jobs"]] == ["dvb-1"]

    refused = api.post(
        "/api/models/", {"name": "org/b", "revision": COMMIT, "benchmarks": ["nope"]}, format="json"
    )
    assert refused.status_code == 400
    assert "nope" in refused.json()["benchmarks"][0]


@pytest.mark.parametrize("benchmarks", ["navab", [1], ["Not A Slug"], [None]])
def test_the_api_refuses_benchmarks_that_are_not_a_list_of_slugs(owner, release, benchmarks):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")

    response = api.post(
        "/api/models/",
        {"name": "org/a", "revision": COMMIT, "benchmarks": benchmarks},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"benchmarks": ["Expected a list of benchmark slugs."]}


def test_a_form_encoded_api_submission_names_each_benchmark(owner, release, divervalue):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")

    response = api.post(
        "/api/models/", {"name": "org/a", "revision": COMMIT, "benchmarks": ["navab", "divervalue"]}
    )

    assert response.status_code == 201, response.json()
    assert len(response.json()["jobs"]) == 2
