"""A method a run left out (PAA without a single verdict) keeps its per-item records but has no
score: no page and no API answer shows a number for it, and each says why, as the board does."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.urls import reverse

from leaderboard.boards.compare import compare
from leaderboard.evals.models import SampleResult
from tests.factories import dvb_evaluate, dvb_release, make_model

pytestmark = pytest.mark.django_db

MARGINS = {"United Kingdom": 3.0, "Japan": 0.5, "Nigeria": -1.0, "Brazil": 1.5, "Fiji": -9.0}
WHY = "no verdicts: every judge output was unreadable"


@pytest.fixture
def dvb():
    release = dvb_release()
    jobs = []
    for name, shift in (("org/first", 0.0), ("org/second", 1.0)):
        margins = {country: m + shift for country, m in MARGINS.items()}
        job = dvb_evaluate(make_model(name), release, margins)
        # What the worker stores for PAA without a verdict: per-item records, no score.
        SampleResult.objects.bulk_create(
            SampleResult(job=job, item=s.item, method="paa", value=0.0, correct=None)
            for s in job.samples.select_related("item")
        )
        job.repro_card = {**job.repro_card, "not_run": {"paa": WHY}}
        job.save(update_fields=["repro_card"])
        jobs.append(job)
    return release, jobs


def text(response) -> str:
    assert response.status_code == 200
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_disparity_page_says_why_there_is_no_disparity(client, dvb):
    page = text(client.get(reverse("disparity", args=["divervalue"]), {"method": "paa"}))
    assert f"PAA has no scores for 2 models, so no disparity: {WHY}" in page
    assert "pts" not in page
    assert "No model has a finished evaluation" not in page


def test_the_disparity_api_gives_the_pages_reason(client, dvb):
    response = client.get("/api/benchmarks/divervalue/disparity/", {"method": "paa"})
    data = response.json()
    assert data["rows"] == []
    assert data["no_scores"] == [{"reason": WHY, "models": 2}]
    opa = client.get("/api/benchmarks/divervalue/disparity/", {"method": "opa"}).json()
    assert opa["no_scores"] == [] and len(opa["rows"]) == 2


def test_the_leaderboard_api_gives_the_boards_reason(client, dvb):
    data = client.get("/api/benchmarks/divervalue/leaderboard/", {"method": "paa"}).json()
    assert data["results"] == []
    assert data["no_scores"] == [{"reason": WHY, "models": 2}]
    board = text(client.get(reverse("board", args=["divervalue"]), {"method": "paa"}))
    assert f"PAA has no scores for 2 models: {WHY}" in board


def test_the_model_page_shows_no_disparity_for_the_method(client, dvb):
    _, (job, _) = dvb
    page = text(client.get(reverse("model-detail", args=[job.model_id])))
    summary = page.split("Disparity across slices")[1].split("Per dimension")[0]
    assert "OPA: largest by" in summary and "PAA" not in summary
    (found,) = client.get(f"/api/models/{job.model_id}/disparity/").json()["benchmarks"]
    assert {d["method"] for d in found["disparities"]} == {"opa"}
    assert found["no_scores"] == [{"method": "paa", "reason": WHY}]


def test_the_compare_page_compares_no_method_without_scores_and_says_why(client, dvb):
    release, (first, second) = dvb
    result = compare(release, [first.model_id, second.model_id])
    assert {cell.method for cell in result.cells} == {"opa"}
    a, b = first.model.display_name, second.model.display_name
    assert result.unscored == [("PAA", f"no scores for {a}: {WHY}; {b}: {WHY}")]
    page = text(
        client.get(
            reverse("compare", args=["divervalue"]),
            {"models": [first.model_id, second.model_id], "method": "paa"},
        )
    )
    assert f"PAA is not compared: no scores for {a}: {WHY}" in page
    assert "p = 1.000" not in page and "Δ 0.0%" not in page
