"""A release's filter values are counted once, when its items are written, and pages read them
instead of scanning every item per dropdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.facets import field_filters
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from tests.factories import DVB_COUNTRIES, dvb_evaluate, dvb_release, make_model

pytestmark = pytest.mark.django_db


def recomputed(release: DatasetRelease) -> dict[str, list[list[object]]]:
    """Each field's values and counts, grouped by the database over the stored items."""
    facets = {}
    for field in field_filters([get_benchmark(release.benchmark.slug)]):
        key = f"data__{field.name}"
        grouped = (
            release.items.exclude(**{key: ""})
            .exclude(**{f"{key}__isnull": True})
            .order_by()
            .values(key)
            .annotate(n=Count("id"))
        )
        facets[field.name] = sorted([str(row[key]), row["n"]] for row in grouped)
    return facets


def test_it_counts_the_divervalue_release_s_field_values_at_import():
    demo = get_benchmark("divervalue").demo_dir
    report = import_release(demo, benchmark="divervalue", version="dvb-x", licence="CC-BY-4.0")
    release = DatasetRelease.objects.get(pk=report.release.pk)
    assert release.facets == recomputed(release)
    users = release.facets["user_id"]
    assert len(users) > 1 and sum(n for _, n in users) == release.items.count()


def test_it_counts_the_navab_release_s_field_values_at_import(navab_dir: Path):
    report = import_release(navab_dir, version="navab-x")
    release = DatasetRelease.objects.get(pk=report.release.pk)
    assert release.facets == recomputed(release)
    assert release.facets["language"]


def _release(version: str, users_per_country: int, items_per_user: int) -> DatasetRelease:
    release = dvb_release(
        version, users_per_country=users_per_country, items_per_user=items_per_user
    )
    assert release.facets == recomputed(release)
    return release


def _queries(client, url: str) -> list[str]:
    client.get(url)  # what a process does once (memos, sessions) is not counted
    cache.clear()  # the cold path: nothing read from a cache
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_item_browser_costs_the_same_queries_for_10_and_200_items(client):
    small = _release("dvb-small", 1, 2)
    large = _release("dvb-large", 10, 5)
    assert small.items.count() == 10 and large.items.count() >= 200
    browse = reverse("browse", args=["divervalue"])
    with_small = _queries(client, f"{browse}?release={small.version}")
    with_large = _queries(client, f"{browse}?release={large.version}&gender=Female")
    assert len(with_small) == len(with_large)
    # Its dropdowns come from the release row, not from a pass over the items.
    assert not [sql for sql in with_large if "DISTINCT" in sql and "benchmark_item" in sql]


def test_the_model_page_costs_the_same_queries_for_10_and_200_items(client):
    margins = {country: 1.0 for country, *_ in DVB_COUNTRIES} | {"Fiji": 1.0}
    pages = []
    for version, users, per_user in (("dvb-small", 1, 2), ("dvb-large", 10, 5)):
        release = _release(version, users, per_user)
        model = make_model(f"org/{version}")
        dvb_evaluate(model, release, margins)
        pages.append(_queries(client, reverse("model-detail", args=[model.pk])))
    assert len(pages[0]) == len(pages[1])
    assert not [sql for sql in pages[1] if "DISTINCT" in sql and "benchmark_item" in sql]
