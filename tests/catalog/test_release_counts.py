"""A release's items per slice are grouped once per content checksum, not per request: the
item browser, release card and model page all need them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard.catalog.counts import release_counts
from tests.factories import add_triples, make_release

pytestmark = pytest.mark.django_db


def grouped_queries(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "GROUP BY" in q["sql"] and "benchmark_item" in q["sql"]
    ]


@pytest.mark.parametrize("page", ["browse", "release-detail"])
def test_a_second_visit_does_not_group_the_releases_items_again(client, page):
    cache.clear()
    release = make_release("r1", manifest={"content_sha256": "a" * 64})
    add_triples(release, "us", "quoted", 3, topic="t0")
    url = reverse(page, args=["navab", "r1"] if page == "release-detail" else ["navab"])
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert grouped_queries(captured) == []


def test_new_content_under_a_new_checksum_is_counted_again():
    cache.clear()
    release = make_release("r1", manifest={"content_sha256": "a" * 64})
    add_triples(release, "us", "quoted", 3, topic="t0")
    before = sum(release_counts(release).values())
    add_triples(release, "cn", "quoted", 4, topic="t1")
    release.manifest = {"content_sha256": "b" * 64}  # as the importer or an admin edit does
    release.save(update_fields=["manifest"])
    assert sum(release_counts(release).values()) == before + 4
