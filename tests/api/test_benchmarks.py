"""Each benchmark's releases and items under /api/benchmarks/<slug>/, read from its declaration;
today's addresses answer as NaVAB's."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.models import Benchmark, DatasetRelease, Item
from tests.factories import add_triples, make_release, save_items

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


def divervalue_release(version: str, *, publish: bool = True) -> DatasetRelease:
    """Two DiverValue-Bench items, built from its declaration's fields."""
    release = make_release(version, benchmark="divervalue", published=publish)
    benchmark = get_benchmark("divervalue")
    people = [("us", "Western", "25-34", "Female"), ("jp", "East Asia", "55-64", "Male")]
    items = []
    for i, (country, region, age, gender) in enumerate(people):
        record = {
            "birth_country": country,
            "region": region,
            "age": age,
            "gender": gender,
            "education": "University",
            "marital_status": "Single",
        }
        data = {f.name: f"{f.name} {i}" for f in benchmark.content_fields()}
        data.update({k: v for k, v in record.items() if k in data})
        data["question"] = f"Is question {i} about {country}?"
        items.append(
            Item(
                release=release,
                uid=f"dvb-{version}-{i}",
                slices=benchmark.slice_of(record),
                data=data,
            )
        )
    save_items(items)
    return release


def _get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_it_lists_a_benchmarks_items_with_its_declared_fields(client):
    add_triples(make_release("navab-1"), question="A NaVAB question?")
    divervalue_release("dvb-1")

    items = _get(client, "/api/benchmarks/divervalue/items/")["results"]
    assert [i["uid"] for i in items] == ["dvb-dvb-1-0", "dvb-dvb-1-1"]
    first = items[0]
    assert first["birth_country"] == "us" and first["region"] == "Western"
    assert first["answer_w"] == "answer_w 0" and "statement" not in first
    navab = _get(client, "/api/benchmarks/navab/items/")["results"]
    assert [i["question"] for i in navab] == ["A NaVAB question?"]
    assert {"nation", "mode", "statement", "reverse_statement"} <= set(navab[0])


def test_it_filters_items_by_the_benchmarks_slices_and_refuses_other_values(client):
    divervalue_release("dvb-1")
    url = "/api/benchmarks/divervalue/items/"

    assert [i["uid"] for i in _get(client, url, region="East Asia")["results"]] == ["dvb-dvb-1-1"]
    assert _get(client, url, gender="Female", q="question")["count"] == 1
    response = client.get(url, {"region": "Atlantis"})
    assert response.status_code == 400
    assert "region" in response.json()


def test_each_benchmark_lists_its_own_current_release(client):
    add_triples(make_release("navab-1"), "us", "quoted", question="Still current?")
    divervalue_release("dvb-1")  # published after NaVAB's: newest overall, not NaVAB's

    navab = _get(client, "/api/benchmarks/navab/items/", nation="us")["results"]
    assert [i["question"] for i in navab] == ["Still current?"]
    assert _get(client, "/api/triples/", nation="us")["count"] == 1
    # Another benchmark's release named in the filter lends it no items.
    assert _get(client, "/api/benchmarks/navab/items/", release="dvb-1")["count"] == 0


def test_a_benchmarks_items_and_releases_stay_its_own(client):
    navab_item = add_triples(make_release("navab-1"))[0]
    divervalue_release("dvb-1")
    dvb_item = Item.objects.get(uid="dvb-dvb-1-0")

    detail = _get(client, f"/api/benchmarks/divervalue/items/{dvb_item.pk}/")
    assert detail["uid"] == dvb_item.uid and "system_string" in detail
    assert client.get(f"/api/benchmarks/divervalue/items/{navab_item.pk}/").status_code == 404
    assert client.get(f"/api/triples/{dvb_item.pk}/").status_code == 404
    releases = _get(client, "/api/benchmarks/divervalue/releases/")["results"]
    assert [(r["benchmark"], r["version"], r["n_items"]) for r in releases] == [
        ("divervalue", "dvb-1", 2)
    ]
    assert client.get("/api/benchmarks/navab/releases/dvb-1/").status_code == 404
    assert [r["version"] for r in _get(client, "/api/releases/")["results"]] == ["navab-1"]


def test_drafts_stay_staff_only_under_every_benchmark(client, admin_client):
    divervalue_release("dvb-draft", publish=False)
    url = "/api/benchmarks/divervalue/releases/"

    assert _get(client, url)["count"] == 0
    assert client.get(f"{url}dvb-draft/").status_code == 404
    assert [r["status"] for r in _get(admin_client, url)["results"]] == ["draft"]
    items = "/api/benchmarks/divervalue/items/"
    assert _get(client, items, release="dvb-draft")["count"] == 0
    assert _get(admin_client, items, release="dvb-draft")["count"] == 2


@pytest.mark.parametrize(
    "url",
    [
        "/api/benchmarks/atlantis/items/",
        "/api/benchmarks/atlantis/releases/",
        "/api/benchmarks/atlantis/releases/r1/",
        "/api/benchmarks/atlantis/",
    ],
)
def test_an_unknown_benchmark_is_a_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_the_old_addresses_say_they_are_navabs(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for old, new in [
        ("/api/triples/", "/api/benchmarks/{benchmark_slug}/items/"),
        ("/api/releases/", "/api/benchmarks/{benchmark_slug}/releases/"),
    ]:
        assert "NaVAB's" in paths[old]["get"]["description"], old
        assert "benchmark_slug" not in {p["name"] for p in paths[old]["get"]["parameters"]}
        [slug] = [p for p in paths[new]["get"]["parameters"] if p["name"] == "benchmark_slug"]
        assert slug["in"] == "path" and set(slug["schema"]["enum"]) >= {"navab", "divervalue"}
    # The generic list documents every registered benchmark's slice filters.
    names = {
        p["name"] for p in paths["/api/benchmarks/{benchmark_slug}/items/"]["get"]["parameters"]
    }
    assert {"nation", "mode", "birth_country", "region", "q", "release"} <= names


def test_a_benchmark_lists_its_declaration(client):
    benchmarks = _get(client, "/api/benchmarks/")["results"]
    assert {"navab", "divervalue"} <= {b["slug"] for b in benchmarks}
    dvb = _get(client, "/api/benchmarks/divervalue/")
    opa, paa = dvb["methods"]
    assert (paa["key"], paa["track"], paa["primary"]) == ("paa", "judged", "paa")
    margin = next(m for m in opa["metrics"] if m["key"] == "margin")
    assert (margin["kind"], margin["interval"], margin["lower"], margin["upper"]) == (
        "margin",
        "cluster",
        None,
        None,
    )
    assert margin["cluster_field"] == "user_id" and opa["primary"] == "opa"
    assert "answer_w" in {f["name"] for f in dvb["item_fields"]}
    assert dvb["links"]["items"] == "/api/benchmarks/divervalue/items/"
    navab = _get(client, "/api/benchmarks/navab/")
    assert [s["key"] for s in navab["methods"][0]["submetrics"]] == ["pos", "neg"]
    nation = navab["slices"][0]
    assert (nation["key"], nation["averaged"], nation["values"][0]["code"]) == (
        "nation",
        True,
        "cn",
    )


def test_a_benchmark_gone_from_the_registry_is_not_served(client):
    Benchmark.objects.create(slug="retired", name="Retired")

    assert "retired" not in {b["slug"] for b in _get(client, "/api/benchmarks/")["results"]}
    assert client.get("/api/benchmarks/retired/").status_code == 404
    assert client.get("/api/benchmarks/retired/items/").status_code == 404
