"""The evaluation API: token-authenticated submissions, jobs, cancel, scores and samples."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leaderboard.evals.models import EvaluationJob, JobKind, JobStatus, SampleResult, Score

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def authenticate(api: APIClient, user) -> None:
    token, _ = Token.objects.get_or_create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_it_refuses_anonymous_submissions(api, release):
    response = api.post("/api/models/", {"name": "org/model"}, format="json")
    assert response.status_code == 401
    assert not EvaluationJob.objects.exists()


def test_it_queues_a_submission_made_with_a_token(api, owner, release, config_only_model, settings):
    settings.SUBMISSION_LOCAL_ROOTS = [config_only_model.parent]
    authenticate(api, owner)
    response = api.post(
        "/api/models/",
        {"name": str(config_only_model), "precision": "float32", "model_type": "base"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["model"]["revision"].startswith("local-")
    [submitted] = body["jobs"]
    assert submitted["status"] in (JobStatus.PENDING, JobStatus.QUEUED)
    assert submitted["kind"] == JobKind.EVALUATE
    assert submitted["release"] == release.version
    job = EvaluationJob.objects.get(pk=submitted["id"])
    assert job.requested_by == owner


def test_it_explains_why_a_submission_is_refused(api, owner, release):
    authenticate(api, owner)
    response = api.post("/api/models/", {"name": "not a hub id"}, format="json")
    assert response.status_code == 400
    assert "organisation/model-name" in str(response.json())


def test_only_the_submitter_or_staff_can_cancel_a_job(api, model, release, other_user, owner):
    job = EvaluationJob.objects.create(model=model, release=release, status=JobStatus.QUEUED)
    authenticate(api, other_user)
    assert api.post(f"/api/jobs/{job.pk}/cancel/").status_code == 403
    authenticate(api, owner)
    response = api.post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == JobStatus.CANCELLED


def test_scores_and_samples_filter_by_job_nation_and_correctness(api, model, release):
    job = EvaluationJob.objects.create(model=model, release=release, status=JobStatus.FINISHED)
    other = EvaluationJob.objects.create(
        model=model, release=release, status=JobStatus.FAILED, attempt=2
    )
    us = release.items.in_slice("nation", "us")
    SampleResult.store(
        job.pk,
        [
            SampleResult.with_long(
                {"half": "pos"},
                {"loglikelihoods": {"A": -1.0, "B": -2.0}},
                job=job,
                item=triple,
                method="mc",
                value=float(i == 0),
                correct=i == 0,
                chosen="A",
            )
            for i, triple in enumerate(us)
        ],
    )
    SampleResult.objects.create(
        job=other, item=us[0], method="mc", value=0.0, chosen="B", correct=False
    )
    Score.objects.create(
        job=job,
        slices={"nation": "us", "mode": "quoted"},
        slice_key="mode=quoted|nation=us",
        method="mc",
        metric="acc",
        value=0.5,
        n=2,
        stderr=0.35,
        ci_low=0.0,
        ci_high=1.0,
    )
    samples = api.get(f"/api/samples/?job={job.pk}&nation=us&correct=false").json()
    assert samples["count"] == us.count() - 1
    assert {row["uid"] for row in samples["results"]} <= set(us.values_list("uid", flat=True))
    assert all(row["correct"] is False for row in samples["results"])
    assert all(row["slices"]["nation"] == "us" for row in samples["results"])
    assert all(row["item"]["nation"] == "us" for row in samples["results"])
    assert api.get(f"/api/scores/?job={job.pk}&nation=fr").json()["count"] == 0
    scores = api.get(f"/api/scores/?job={job.pk}&nation=us").json()
    assert scores["count"] == 1 and scores["results"][0]["value"] == 0.5
    jobs = api.get(f"/api/jobs/?model={model.pk}&status=finished").json()
    assert [j["id"] for j in jobs["results"]] == [job.pk]


def test_samples_list_in_the_order_of_job_item_and_method_and_have_no_address_of_their_own(
    api, model, release
):
    job = EvaluationJob.objects.create(model=model, release=release, status=JobStatus.FINISHED)
    items = list(release.items.order_by("id")[:2])
    # Created out of that order, as a run might list them.
    for item in reversed(items):
        for method in ("mc", "aj"):
            SampleResult.objects.create(job=job, item=item, method=method, value=1.0)
    listed = api.get(f"/api/samples/?job={job.pk}").json()["results"]
    assert [(r["uid"], r["method"]) for r in listed] == [
        (item.uid, method) for item in items for method in ("aj", "mc")
    ]
    # A result is found by its job, item and method (filters), not by a number.
    assert api.get("/api/samples/1/").status_code == 404
    by_method = api.get(f"/api/samples/?job={job.pk}&ordering=-method").json()["results"]
    assert [r["method"] for r in by_method] == ["mc", "mc", "aj", "aj"]
    assert api.get(f"/api/samples/?job={job.pk}&ordering=pk").status_code == 200


def test_gpu_workers_can_score_with_vllm(model, settings):
    from leaderboard.evals.runner import model_spec

    assert model_spec(model).kind == "hf"
    settings.EVAL_BACKEND = "vllm"
    spec = model_spec(model)
    assert spec.kind == "vllm" and spec.revision == model.revision
    assert spec.to_lm_eval_args()["trust_remote_code"] is False
