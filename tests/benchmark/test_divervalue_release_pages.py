"""DiverValue-Bench's demo release on the home page, its release card and its downloads: the
same views and templates as NaVAB's, every word of them from the declaration."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.benchmark.importer import import_release
from leaderboard.benchmark.models import DatasetRelease

pytestmark = pytest.mark.django_db

DVB = get_benchmark("divervalue")
VERSION = "divervalue-demo-1"


@pytest.fixture
def dvb() -> DatasetRelease:
    return import_release(
        DVB.demo_dir, benchmark="divervalue", version=VERSION, licence="cc-by-4.0", publish=True
    ).release


def _card(client, release: DatasetRelease):
    response = client.get(reverse("release-detail", args=["divervalue", release.version]))
    assert response.status_code == 200
    return response


def test_its_count_table_has_a_column_per_region_summing_the_filter_dimensions(client, dvb):
    counts = _card(client, dvb).context["counts"]

    assert counts.column_label == "Region"
    assert all(set(column.values) == {"region"} for column in counts.columns)
    regions = [column.key for column in counts.columns]
    assert len(regions) == len(set(regions))
    assert counts.total == dvb.items.count()
    for column, total in zip(counts.columns, counts.column_totals, strict=True):
        assert total.n == dvb.items.filter(slices__region=column.key).count()


def test_its_split_files_are_no_rejected_records(client, dvb):
    html = _card(client, dvb).content.decode()

    assert dvb.manifest["rejected"] == 0
    assert "rejected on import" not in html
