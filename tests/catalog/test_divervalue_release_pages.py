"""DiverValue-Bench's demo release on the home page, its release card and its downloads: the
same views and templates as NaVAB's, every word of them from the declaration."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease

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


def test_its_card_describes_its_own_method_and_sources(client, dvb):
    response = _card(client, dvb)
    html = response.content.decode()

    assert escape(DVB.description) in html
    for method in DVB.methods:
        assert escape(method.label) in html and escape(method.description) in html
    assert "triple" not in html.lower()
    assert "nation" not in html.lower()
    assert '<th scope="col" class="num">Items</th>' in html
    splits = {name: split for name, _, split in response.context["files"]}
    assert splits == {
        "DVB-test.json": "test",
        "DVB-train.json": "train",
        "DVB-val.json": "val",
        "DiverValue-Bench_dataset.json": "",
    }
    assert "<td>train</td>" in html


def test_its_downloads_are_named_for_items_without_repeating_the_slug(client, dvb):
    html = _card(client, dvb).content.decode()
    assert f"{VERSION}-items.jsonl" in html
    assert f"divervalue-{VERSION}" not in html

    response = client.get(reverse("download-release", args=["divervalue", VERSION, "jsonl"]))

    assert response.status_code == 200
    assert f'filename="{VERSION}-items.jsonl"' in response["Content-Disposition"]


def test_its_browser_counts_items_and_links_each_from_its_question(client, dvb):
    response = client.get(reverse("browse", args=["divervalue"]))
    html = response.content.decode()

    assert response.status_code == 200
    assert f"{dvb.items.count()}</span>\n    items" in html
    assert "triple" not in html.lower()
    row = response.context["rows"][0]
    assert row["values"][0] == row["item"].data["question"]


def test_its_browser_shows_the_question_first_and_the_dimensions_after_it(client, dvb):
    html = client.get(reverse("browse", args=["divervalue"])).content.decode()
    header = html.split('<table class="table" id="items">')[1].split("</thead>")[0]
    labels = re.findall(r'<th scope="col">([^<]+)</th>', header)
    assert labels[:3] == ["Question", "Birth country/region", "Region"]
    first_row = html.split("<tbody>")[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", first_row, re.S)
    assert cells[0].startswith('<a href="/divervalue/releases/')
    assert len(cells) == len(labels)
