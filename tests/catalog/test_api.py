"""The read-only benchmark API: nations, modes, releases, triples, and the OpenAPI schema."""

from __future__ import annotations

import pytest
import yaml
from django.core.cache import cache
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from tests.factories import add_triples, make_release

pytestmark = pytest.mark.django_db

TRIPLES = reverse("api:triple-list")


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # API throttling counts requests in the cache; start each test from zero.
    cache.clear()


def _get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


# What `/api/nations/` and `/api/modes/` answered when they read the Nation and Mode tables;
# they answer from NaVAB's declaration now, with the same responses.
NATIONS_ANSWERED = [
    {"code": "cn", "name": "China", "languages": ["zh", "en"]},
    {"code": "us", "name": "United States", "languages": ["en"]},
    {"code": "uk", "name": "United Kingdom", "languages": ["en"]},
    {"code": "fr", "name": "France", "languages": ["fr", "en"]},
    {"code": "de", "name": "Germany", "languages": ["de", "en"]},
]
MODES_ANSWERED = [
    {
        "code": "quoted",
        "name": "Quoted statements",
        "description": "Statements attributed to a named speaker in the nation's news.",
    },
    {
        "code": "official",
        "name": "Official positions",
        "description": "Positions stated by official or mainstream media without a named speaker.",
    },
    {
        "code": "source",
        "name": "Source statements",
        "description": "The German release's extra `source` split: statements with their source "
        "judgement. Browsable here; not scored on the boards.",
    },
]


def test_nations_and_modes_answer_as_they_did_from_their_tables(client):
    def page(results):
        return {"count": len(results), "next": None, "previous": None, "results": results}

    assert _get(client, reverse("api:nation-list")) == page(NATIONS_ANSWERED)
    assert _get(client, reverse("api:mode-list")) == page(MODES_ANSWERED)
    assert _get(client, reverse("api:nation-detail", args=["us"])) == NATIONS_ANSWERED[1]
    assert _get(client, reverse("api:mode-detail", args=["source"])) == MODES_ANSWERED[2]
    for missing in (reverse("api:nation-detail", args=["xx"]), "/api/nations/?page=2"):
        response = client.get(missing)
        assert response.status_code == 404
        assert set(response.json()) == {"detail"}


def test_releases_hide_drafts_from_anonymous_users(client, admin_client):
    add_triples(make_release("r1"), count=2)
    make_release("r2-draft", published=False)

    releases = _get(client, reverse("api:release-list"))["results"]
    assert [(r["version"], r["n_triples"]) for r in releases] == [("r1", 2)]
    detail = _get(client, reverse("api:release-detail", args=["r1"]))
    assert detail["downloads"]["csv"] == reverse("download-release", args=["navab", "r1", "csv"])
    assert detail["url"] == reverse("release-detail", args=["navab", "r1"])
    assert client.get(reverse("api:release-detail", args=["r2-draft"])).status_code == 404

    staff_releases = _get(admin_client, reverse("api:release-list"))["results"]
    assert {r["version"] for r in staff_releases} == {"r1", "r2-draft"}


def test_triples_default_to_the_current_release(client):
    add_triples(make_release("r1"), question="Old?")
    add_triples(make_release("r2"), question="New?")

    assert [t["question"] for t in _get(client, TRIPLES)["results"]] == ["New?"]
    old = _get(client, TRIPLES, release="r1")["results"]
    assert [(t["question"], t["release"]) for t in old] == [("Old?", "r1")]


def test_triples_filter_by_nation_mode_topic_language_and_search(client):
    release = make_release("r1")
    add_triples(release, "cn", "quoted", question="Should tariffs rise?", topic="trade")
    add_triples(release, "cn", "official", question="Is the river clean?", language="zh")
    add_triples(release, "de", "quoted", question="Should coal end?", topic="energy")

    def questions(**params):
        return {t["question"] for t in _get(client, TRIPLES, **params)["results"]}

    assert questions(nation="cn") == {"Should tariffs rise?", "Is the river clean?"}
    assert questions(nation="cn", mode="official") == {"Is the river clean?"}
    assert questions(topic="energy") == {"Should coal end?"}
    assert questions(language="zh") == {"Is the river clean?"}
    assert questions(q="tariff") == {"Should tariffs rise?"}
    assert client.get(TRIPLES, {"nation": "atlantis"}).status_code == 400


def test_triples_are_paginated(client):
    add_triples(make_release("r1"), "us", "quoted", 7)

    first = _get(client, TRIPLES, page_size=5)
    assert first["count"] == 7
    assert len(first["results"]) == 5
    assert "page=2" in first["next"]
    assert len(_get(client, TRIPLES, page_size=5, page=2)["results"]) == 2


def test_item_detail_adds_provenance_and_hides_drafts(client, admin_client):
    [published] = add_triples(make_release("r1"), raw_generation="Q: a ## S: b ## RS: c")
    [draft] = add_triples(make_release("r2", published=False))

    detail = _get(client, reverse("api:triple-detail", args=[published.pk]))
    assert detail["uid"] == published.uid
    assert detail["raw_generation"] == "Q: a ## S: b ## RS: c"
    assert detail["url"] == published.get_absolute_url()
    assert "raw_generation" not in _get(client, TRIPLES)["results"][0]
    assert client.get(reverse("api:triple-detail", args=[draft.pk])).status_code == 404
    assert admin_client.get(reverse("api:triple-detail", args=[draft.pk])).status_code == 200
    # Naming a draft in a list filter does not reveal its triples either.
    assert _get(client, TRIPLES, release="r2")["count"] == 0


def test_writes_are_refused(client, admin_client):
    release = make_release("r1")
    [triple] = add_triples(release)

    assert client.post(TRIPLES, {"question": "x"}).status_code == 401
    assert admin_client.post(TRIPLES, {"question": "x"}).status_code == 405
    detail = reverse("api:triple-detail", args=[triple.pk])
    assert admin_client.delete(detail).status_code == 405
    release_url = reverse("api:release-detail", args=["r1"])
    assert admin_client.patch(release_url, {}, content_type="application/json").status_code == 405
    assert admin_client.post(reverse("api:nation-list"), {"code": "xx"}).status_code == 405


def test_schema_is_valid_openapi(client):
    response = client.get(reverse("api-schema"))

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/triples/", "/api/triples/{id}/", "/api/releases/{version}/"):
        assert path in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/triples/"]["get"]["parameters"]}
    assert {"release", "nation", "mode", "topic", "language", "q", "page"} <= parameters
    assert "put" not in schema["paths"]["/api/triples/{id}/"]


def test_docs_page_is_served_without_a_cdn(client):
    response = client.get(reverse("api-docs"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html
