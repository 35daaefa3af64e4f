"""The leaderboard API: the page's rows for the same view state, rate limited, documented."""

from __future__ import annotations

import pytest
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import finished_job, make_model, ranked_model, set_scores, uniform_cells

pytestmark = pytest.mark.django_db
URL = "/api/leaderboard/"


@pytest.fixture
def models(release):
    ranked_model("org/high", release, 0.9, 0.02, model_type="instruct", params_billions=70.0)
    ranked_model("org/low", release, 0.4, 0.02)
    partial = make_model("org/partial")
    set_scores(finished_job(partial, release), uniform_cells(0.8, nations=["de"]))


def test_it_lists_the_overall_board(client, models):
    response = client.get(URL)
    assert response.status_code == 200
    data = response.json()
    assert {
        k: data[k] for k in ("release", "nation", "mode", "method", "total_models", "count")
    } == {
        "release": "r1",
        "nation": "overall",
        "mode": "quoted",
        "method": "mc",
        "total_models": 3,
        "count": 3,
    }
    assert [(r["model"], r["rank"], r["complete"]) for r in data["results"]] == [
        ("org/high", 1, True),
        ("org/low", 2, True),
        ("org/partial", None, False),
    ]
    high = data["results"][0]
    assert high["score"] == pytest.approx(0.9)
    assert high["ci_low"] < 0.9 < high["ci_high"]
    assert set(high["cells"]) == {"cn", "us", "uk", "fr", "de"}
    assert high["cells"]["us"] == {
        "value": 0.9,
        "ci_low": 0.88,
        "ci_high": 0.92,
        "stderr": pytest.approx(0.04 / 3.92),
        "n": 100,
        "parts": {"pos": {"value": 0.9, "n": 50}, "neg": {"value": 0.9, "n": 50}},
        "clusters": None,  # a binomial interval: items are independent
    }
    assert high["url"] == f"/models/{high['model_id']}/"
    partial = data["results"][2]
    assert partial["score"] is None and partial["ci_low"] is None


def test_it_takes_the_pages_parameters(client, models):
    data = client.get(URL, {"nation": "de", "sort": "name", "order": "desc"}).json()
    assert [(r["model"], r["rank"]) for r in data["results"]] == [
        ("org/partial", 2),
        ("org/low", 3),
        ("org/high", 1),
    ]
    data = client.get(URL, {"type": "instruct"}).json()
    assert [r["model"] for r in data["results"]] == ["org/high"]
    assert data["count"] == 1 and data["total_models"] == 3
    assert client.get(URL, {"q": "low"}).json()["count"] == 1


def test_it_pages_rows(client, models):
    data = client.get(URL, {"page_size": 2}).json()
    assert len(data["results"]) == 2 and data["next"]
    assert [r["model"] for r in client.get(data["next"]).json()["results"]] == ["org/partial"]


def test_unknown_state_is_a_json_404(client, models):
    response = client.get(URL, {"nation": "atlantis"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown nation 'atlantis'"}


def test_anonymous_clients_get_the_rate_limit_from_settings(client, models, monkeypatch):
    # DRF reads the rates once at import; the settings value is what the throttle holds.
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/min")
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]


def test_the_openapi_schema_documents_the_api(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in ("/api/leaderboard/", "/api/models/", "/api/scores/", "/api/jobs/"):
        assert path in paths, path
    board = paths["/api/leaderboard/"]["get"]
    names = {p["name"] for p in board["parameters"]}
    assert {
        "release",
        "nation",
        "mode",
        "method",
        "type",
        "precision",
        "size",
        "family",
        "q",
        "sort",
        "order",
        "page",
    } <= names
    row = schema["components"]["schemas"]["BoardRow"]["properties"]
    assert {"rank", "score", "ci_low", "ci_high", "cells", "complete"} <= set(row)
