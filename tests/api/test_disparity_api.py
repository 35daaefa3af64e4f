"""Disparity in the API: per model (its page's numbers) and per benchmark dimension (the
disparity board's), for either benchmark."""

from __future__ import annotations

import pytest

from leaderboard.evals import disparity as stored
from tests.factories import dvb_evaluate, dvb_release, make_model, make_release

pytestmark = pytest.mark.django_db
MARGINS = {"United Kingdom": 6.0, "Japan": 0.0, "Nigeria": -6.0, "Brazil": 2.0, "Fiji": -9.0}


@pytest.fixture
def job():
    return dvb_evaluate(make_model("org/spread"), dvb_release(), MARGINS)


def test_a_models_disparity_lists_each_dimension_with_labels_and_intervals(client, job):
    response = client.get(f"/api/models/{job.model_id}/disparity/")
    assert response.status_code == 200
    data = response.json()
    (entry,) = data["benchmarks"]
    assert (entry["benchmark"], entry["release"], entry["job"]) == ("divervalue", "dvb-1", job.pk)
    by_dim = {d["dimension"]: d for d in entry["disparities"]}
    country = by_dim["birth_country"]
    found = stored.for_jobs([job])[job.pk][0]
    assert country["value"] == pytest.approx(found.value)
    assert (country["ci_low"], country["ci_high"]) == pytest.approx((found.ci_low, found.ci_high))
    assert country["worst"]["value"] == "Nigeria" and country["worst"]["label"] == "Nigeria"
    assert country["greyed"] == {"Fiji": 2}
    assert country["lowest"][0]["value"] == "Nigeria"
    assert by_dim["marital_status"]["value"] is None
    assert by_dim["marital_status"]["reason"] == "only one slice has enough items to be ranked"


def test_a_benchmarks_disparity_ranks_models_on_the_chosen_dimension(client, job):
    dvb_evaluate(make_model("org/even"), job.release, dict.fromkeys(MARGINS, 1.0))
    response = client.get("/api/benchmarks/divervalue/disparity/", {"dimension": "region"})
    assert response.status_code == 200
    data = response.json()
    assert (data["dimension"], data["method"], data["metric"]) == ("region", "opa", "opa")
    assert [row["model"] for row in data["rows"]] == ["org/spread", "org/even"]
    assert data["rows"][0]["worst"]["value"] == "Africa"


def test_unknown_disparity_state_is_a_json_404_naming_it(client, job):
    make_release("r1", signal=False)
    for params, message in (
        ({"dimension": "shoe_size"}, "Unknown slice dimension 'shoe_size'"),
        ({"release": "r1"}, "No release 'r1'"),
    ):
        response = client.get("/api/benchmarks/divervalue/disparity/", params)
        assert response.status_code == 404
        assert message in response.json()["detail"]
    assert client.get("/api/benchmarks/nope/disparity/").status_code == 404
