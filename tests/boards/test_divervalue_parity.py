"""DiverValue-Bench's per-item pages, downloads and release errors work exactly as NaVAB's:
the same views, read from the declaration."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from leaderboard.catalog.models import Item
from tests.factories import dvb_evaluate, dvb_release, make_model, make_release, save_items

pytestmark = pytest.mark.django_db
MARGINS = {"United Kingdom": 3.0, "Japan": 0.5, "Nigeria": -1.0, "Brazil": 1.5, "Fiji": -9.0}


@pytest.fixture
def dvb():
    release = dvb_release()
    # A train-split user's item: browsable, never scored (models are scored on DVB-test).
    (train,) = save_items(
        [
            Item(
                release=release,
                uid="tr0-0",
                slices={**release.items.first().slices},
                data={
                    "user_id": "tr0",
                    "split": "train",
                    "question": "A train user's question?",
                    "answer_w": "Yes.",
                    "answer_l": "No.",
                },
            )
        ]
    )
    job = dvb_evaluate(make_model("org/dvb"), release, MARGINS | {"Japan": 0.5})
    return release, job, train


def test_a_train_split_items_results_page_says_why_it_has_none(client, dvb):
    release, _, train = dvb
    train_results = client.get(
        reverse("item-results", args=["divervalue", release.version, train.uid])
    )
    html = train_results.content.decode()
    assert train_results.status_code == 200
    assert "DVB-train split" in html and "scored on the DVB-test users only" in html
    assert "No ranked model" not in html


def test_a_test_split_items_results_page_lists_each_models_margin(client, dvb):
    release, job, _ = dvb
    item = release.items.get(uid="un0-0")
    page = client.get(item.get_absolute_url())
    assert page.status_code == 200
    assert item.data["question"] in page.content.decode()
    results = client.get(reverse("item-results", args=["divervalue", release.version, item.uid]))
    body = results.content.decode()
    assert "org/dvb" in body
    sample = job.samples.get(item=item)
    assert f"{sample.value:.3f}" in body
    assert results.context["summary"]["opa"] == (int(sample.value > 0), 1)


NAMED = "No release 'navab-r1' of DiverValue-Bench: navab-r1 is a NaVAB release"


@pytest.mark.parametrize("name", ["board", "compare", "disparity"])
def test_a_release_of_the_other_benchmark_is_a_404_naming_both(client, dvb, name):
    make_release("navab-r1", signal=False)
    response = client.get(reverse(name, args=["divervalue"]), {"release": "navab-r1"})
    assert response.status_code == 404
    assert escape(NAMED) in response.content.decode()


def test_the_browser_and_downloads_name_the_other_benchmarks_release_in_their_refusal(client, dvb):
    make_release("navab-r1", signal=False)
    browse = client.get(reverse("browse", args=["divervalue"]), {"release": "navab-r1"})
    assert browse.status_code == 200 and browse.context["page"].paginator.count == 0
    assert escape(NAMED) in browse.content.decode()
    download = client.get(
        reverse("download-filtered", args=["divervalue", "csv"]), {"release": "navab-r1"}
    )
    assert download.status_code == 400 and NAMED in download.content.decode()


def test_filtered_downloads_hold_the_filtered_items_under_a_name_without_the_slug_twice(
    client, dvb
):
    release, _, _ = dvb
    response = client.get(
        reverse("download-filtered", args=["divervalue", "csv"]), {"birth_country": "Japan"}
    )
    assert response.status_code == 200
    assert 'filename="divervalue-dvb-1-filtered.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == release.items.filter(slices__birth_country="Japan").count() == 12
    assert {row["birth_country"] for row in rows} == {"Japan"}
    make_release("navab-r1", signal=False)
    navab = client.get(reverse("download-filtered", args=["navab", "csv"]), {"release": "navab-r1"})
    assert 'filename="navab-r1-filtered.csv"' in navab["Content-Disposition"]
