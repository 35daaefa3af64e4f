"""The item browser's result count: read from the release's stored counts where they know it
(slice values, one field value), counted up to a cap otherwise, and said honestly when the cap
is reached; no count query over the items for a view the stored counts answer."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard.catalog import result_count
from leaderboard.catalog.models import DatasetRelease
from tests.factories import add_triples, make_release

pytestmark = pytest.mark.django_db

BROWSE = reverse("browse", args=["navab"])


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # the counts are cached by the release's checksum, which tests reuse
    yield
    cache.clear()


def release_with_items() -> DatasetRelease:
    # A checksum, as an import writes: the per-cell counts are then cached under it.
    release = make_release("r1", manifest={"content_sha256": "c" * 64})
    add_triples(release, "cn", "quoted", 4, topic="Trade", language="zh")
    add_triples(release, "cn", "official", 3, question="Q cn official", topic="trade")
    add_triples(release, "fr", "quoted", 2, question="Q fr", topic="climate", language="fr")
    add_triples(release, "us", "official", 1, question="Tariffs on steel?", topic="climate")
    return release


def shown(client, **params) -> tuple[int, bool, str]:
    response = client.get(BROWSE, params)
    assert response.status_code == 200
    count = response.context["count"]
    assert response.context["page"].paginator.count == count.n
    return count.n, count.capped, response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 10),
        ({"nation": "cn"}, 7),
        ({"nation": "cn", "mode": "quoted"}, 4),
        ({"mode": "official"}, 4),
        ({"nation": "uk"}, 0),
        ({"topic": "trade"}, 7),  # case-blind, as the filter: "Trade" and "trade"
        ({"topic": "TRADE"}, 7),
        ({"language": "fr"}, 2),
        ({"topic": "nothing"}, 0),
        # Counted by a query: a field with a slice, a search.
        ({"topic": "climate", "nation": "us"}, 1),
        ({"q": "tariffs"}, 1),
        ({"q": "tariffs", "nation": "cn"}, 0),
    ],
)
def test_it_shows_the_exact_count_of_every_kind_of_filter(client, params, expected):
    release_with_items()

    n, capped, html = shown(client, **params)

    assert (n, capped) == (expected, False)
    assert f'<span class="count" id="result-count">{expected}</span>' in html


@pytest.mark.parametrize(
    "params", [{}, {"nation": "cn"}, {"nation": "cn", "mode": "quoted"}, {"topic": "trade"}]
)
def test_a_view_the_stored_counts_answer_counts_no_items(client, params):
    release_with_items()
    client.get(BROWSE, params)  # the per-cell counts, once per release content

    with CaptureQueriesContext(connection) as captured:
        assert client.get(BROWSE, params).status_code == 200

    sqls = [q["sql"] for q in captured.captured_queries]
    assert any("benchmark_item" in sql for sql in sqls)  # the page's items were read
    assert [sql for sql in sqls if "COUNT(" in sql.upper()] == []


@pytest.mark.parametrize(
    "params", [{"nation": "cn", "mode": "quoted"}, {"topic": "trade"}, {"q": "tariffs"}]
)
def test_the_query_count_of_a_filtered_view_does_not_grow_with_items(
    client, django_assert_max_num_queries, params
):
    release = release_with_items()
    client.get(BROWSE, params)
    with CaptureQueriesContext(connection) as small:
        assert client.get(BROWSE, params).status_code == 200
    baseline = len(small.captured_queries)  # read now: each request empties the log

    add_triples(release, "cn", "quoted", 40, question="More", topic="trade")
    add_triples(release, "de", "official", 20, question="Tariffs again", topic="tax")
    cache.clear()
    client.get(BROWSE, params)

    with django_assert_max_num_queries(baseline):
        assert client.get(BROWSE, params).status_code == 200


def test_a_count_past_the_cap_says_more_than_and_pages_through_the_first(client, monkeypatch):
    release = release_with_items()
    add_triples(release, "us", "quoted", 8, question="Tariffs on cars?")
    monkeypatch.setattr(result_count, "COUNT_CAP", 5)

    n, capped, html = shown(client, q="tariffs")

    assert (n, capped) == (5, True)
    assert '<span class="count" id="result-count">More than 5</span>' in html
    assert "the first 5 are listed" in html
    assert "page 1 of" not in html
    response = client.get(BROWSE, {"q": "tariffs", "page": 2})
    assert response.context["page"].number == 1  # 5 a page: one page of the first 5


def test_a_release_without_stored_facets_is_counted(client):
    release = release_with_items()
    DatasetRelease.objects.filter(pk=release.pk).update(facets={})

    assert shown(client, topic="trade")[:2] == (7, False)
