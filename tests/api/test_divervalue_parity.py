"""DiverValue-Bench through the API exactly as NaVAB: the root lists every benchmark's own
endpoints, its licence is said, its items and per-item results filter by its slices."""

from __future__ import annotations

import pytest

from evaluation.benchmarks import benchmark_slugs, get_benchmark
from leaderboard.catalog.importer import import_release
from tests.factories import dvb_evaluate, dvb_release, make_model, make_release

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_each_benchmarks_endpoints_and_navabs_aliases(client):
    data = client.get("/api/").json()
    assert list(data["per_benchmark"]) == benchmark_slugs()
    for slug in ("navab", "divervalue"):
        endpoints = data["per_benchmark"][slug]
        assert set(endpoints) == {"releases", "items", "leaderboard", "disparity"}
        assert endpoints["items"] == f"http://testserver/api/benchmarks/{slug}/items/"
        assert client.get(endpoints["leaderboard"]).status_code in (200, 404)
    assert "/api/triples/" in data["navab_aliases"]


def test_a_release_imported_with_a_licence_shows_it_and_the_benchmark_says_it_has_none(client):
    import_release(
        get_benchmark("divervalue").demo_dir,
        benchmark="divervalue",
        version="dvb-2026",
        licence="CC-BY-NC-4.0",
        publish=True,
    )
    release = client.get("/api/benchmarks/divervalue/releases/dvb-2026/").json()
    assert release["license"] == "CC-BY-NC-4.0"
    benchmark = client.get("/api/benchmarks/divervalue/").json()
    assert benchmark["licence"] is None
    assert "states no licence" in benchmark["licence_note"]
    assert client.get("/api/benchmarks/navab/").json()["licence"] == "apache-2.0"


def test_its_items_filter_by_slice_and_its_board_refuses_another_benchmarks_release(client):
    release = dvb_release()
    data = client.get("/api/benchmarks/divervalue/items/", {"birth_country": "Nigeria"}).json()
    assert data["count"] == release.items.filter(slices__birth_country="Nigeria").count() == 12
    make_release("navab-r1", signal=False)
    response = client.get("/api/benchmarks/divervalue/leaderboard/", {"release": "navab-r1"})
    assert response.status_code == 404
    assert "navab-r1 is a NaVAB release" in response.json()["detail"]


def test_its_per_item_results_filter_by_job_and_slice(client):
    release = dvb_release()
    job = dvb_evaluate(
        make_model("org/dvb"),
        release,
        dict.fromkeys(("United Kingdom", "Japan", "Nigeria", "Brazil", "Fiji"), 1.0),
    )
    data = client.get("/api/samples/", {"job": job.pk, "region": "Africa"}).json()
    assert data["count"] == 12
    row = data["results"][0]
    assert row["slices"]["region"] == "Africa" and row["method"] == "opa"
    assert row["details"]["outcome"]["margin"] == pytest.approx(row["value"])
    assert row["item"]["question"].startswith("What matters most to ni")
