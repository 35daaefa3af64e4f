"""A benchmark's board at /api/benchmarks/<slug>/leaderboard/: slices, method and metric as its
declaration names them, checked against it; today's /api/leaderboard/ is NaVAB's."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from evaluation.results import slice_key
from leaderboard.evals.models import Score
from tests.api.test_benchmarks import divervalue_release
from tests.factories import finished_job, make_model, make_release, ranked_model

pytestmark = pytest.mark.django_db
URL = "/api/benchmarks/{}/leaderboard/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


def score_margins(name: str, release, cells: dict[str, tuple[float, float, float]]) -> None:
    """DiverValue-Bench scores of one model: {region or "": (opa, margin, margin half-width)}."""
    job = finished_job(make_model(name), release, methods=["opa"])
    rows = []
    for region, (opa, margin, half) in cells.items():
        slices = {"region": region} if region else {}
        for metric, value, low, high in [
            ("opa", opa, opa - 0.02, opa + 0.02),
            ("margin", margin, margin - half, margin + half),
        ]:
            rows.append(
                Score(
                    job=job,
                    slices=slices,
                    slice_key=slice_key(slices),
                    method="opa",
                    metric=metric,
                    value=value,
                    n=50,
                    stderr=(high - low) / 3.92,
                    ci_low=low,
                    ci_high=high,
                )
            )
    Score.objects.bulk_create(rows)


@pytest.fixture
def divervalue_board():
    release = divervalue_release("dvb-1")
    score_margins("org/opa-high", release, {"": (0.9, 0.5, 0.1), "Western": (0.8, 2.5, 0.1)})
    score_margins("org/margin-high", release, {"": (0.3, 3.0, 0.2), "Western": (0.2, 4.0, 0.2)})
    return release


def _get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_it_ranks_a_benchmark_by_its_declared_primary_metric(client, divervalue_board):
    data = _get(client, URL.format("divervalue"))
    assert {k: data[k] for k in ("benchmark", "release", "slices", "method", "metric")} == {
        "benchmark": "divervalue",
        "release": "dvb-1",
        "slices": {},
        "method": "opa",
        "metric": "opa",
    }
    assert [(r["model"], r["rank"], r["score"]) for r in data["results"]] == [
        ("org/opa-high", 1, 0.9),
        ("org/margin-high", 2, 0.3),
    ]


def test_it_ranks_by_another_declared_metric_unclamped(client, divervalue_board):
    data = _get(client, URL.format("divervalue"), metric="margin", region="Western")
    assert data["slices"] == {"region": "Western"} and data["metric"] == "margin"
    top = data["results"][0]
    # A margin is not a proportion: its interval is not clamped to [0, 1].
    assert (top["model"], top["score"], top["ci_high"]) == ("org/margin-high", 4.0, 4.2)


@pytest.mark.parametrize(
    "params",
    [
        {"method": "mc"},  # NaVAB's method, not DiverValue-Bench's
        {"metric": "acc"},
        {"region": "Atlantis"},
    ],
)
def test_it_refuses_what_the_benchmark_does_not_declare(client, divervalue_board, params):
    response = client.get(URL.format("divervalue"), params)
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_navab_answers_at_its_new_and_old_address_alike(client):
    release = make_release("r1", per_cell=4, signal=False)
    ranked_model("org/high", release, 0.9, 0.02)
    ranked_model("org/low", release, 0.4, 0.02)

    new = _get(client, URL.format("navab"), nation="de", mode="official", method="aj")
    old = _get(client, "/api/leaderboard/", nation="de", mode="official", method="aj")
    assert new["slices"] == {"nation": "de", "mode": "official"}
    assert [c["code"] for c in new["columns"]] == ["cn", "us", "uk", "fr", "de"]
    assert [p["key"] for p in new["parts"]] == ["pos", "neg"]
    assert old["results"] == new["results"]
    assert (old["nation"], old["mode"], old["method"]) == ("de", "official", "aj")
    assert "nation" not in new


def test_an_unknown_benchmark_has_no_board(client):
    response = client.get(URL.format("atlantis"))
    assert response.status_code == 404


def test_the_schema_describes_the_boards_from_the_declarations(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    generic = paths["/api/benchmarks/{benchmark_slug}/leaderboard/"]["get"]
    parameters = {p["name"]: p for p in generic["parameters"]}
    assert {"nation", "mode", "region", "age", "method", "metric"} <= set(parameters)
    assert "DiverValue-Bench: opa: opa/acc_0/margin" in parameters["metric"]["description"]
    legacy = paths["/api/leaderboard/"]["get"]
    assert "NaVAB's" in legacy["description"]
    legacy_parameters = {p["name"]: p for p in legacy["parameters"]}
    assert "region" not in legacy_parameters and "benchmark_slug" not in legacy_parameters
    assert parameters["benchmark_slug"]["in"] == "path"
    assert set(legacy_parameters["method"]["schema"]["enum"]) == {"mc", "aj", "mc_gen", "aj_ref"}


def test_scores_and_jobs_filter_by_benchmark(client, divervalue_board):
    ranked_model("org/navab-only", make_release("r1", per_cell=4, signal=False), 0.7)

    scores = _get(client, "/api/scores/", benchmark="divervalue", metric="margin")
    assert {s["metric"] for s in scores["results"]} == {"margin"} and scores["count"] == 4
    jobs = _get(client, "/api/jobs/", benchmark="navab")["results"]
    assert [j["model"]["name"] for j in jobs] == ["org/navab-only"]
    assert _get(client, "/api/samples/", benchmark="divervalue")["count"] == 0
