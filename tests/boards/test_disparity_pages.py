"""Disparity on a model's page, on the disparity board and in its CSV, for either benchmark."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from leaderboard.evals import disparity as stored
from leaderboard.evals.models import JobDisparity
from tests.factories import dvb_evaluate, dvb_release, evaluate, make_model, make_release

pytestmark = pytest.mark.django_db
SPREAD = {"United Kingdom": 6.0, "Japan": 0.0, "Nigeria": -6.0, "Brazil": 2.0, "Fiji": -9.0}
EVEN = {"United Kingdom": 1.0, "Japan": 1.0, "Nigeria": 1.0, "Brazil": 1.0, "Fiji": 1.0}


@pytest.fixture
def dvb():
    release = dvb_release()
    spread = dvb_evaluate(make_model("org/spread"), release, SPREAD)
    even = dvb_evaluate(make_model("org/even"), release, EVEN)
    return release, spread, even


def _table(html: str, table_id: str) -> str:
    match = re.search(
        rf'<table class="table disparity-table" id="{table_id}">.*?</table>', html, re.S
    )
    assert match, f"no table {table_id}"
    return match.group(0)


def test_the_model_page_shows_each_dimensions_disparity_best_worst_and_lowest_slices(client, dvb):
    _, spread, _ = dvb
    html = client.get(reverse("model-detail", args=[spread.model_id])).content.decode()
    table = _table(html, "disparity-divervalue-opa")
    dims = re.findall(r'<tr data-dimension="([^"]+)">', table)
    assert dims == ["birth_country", "region", "age", "gender", "education", "marital_status"]
    country = re.search(r'<tr data-dimension="birth_country">.*?</tr>', table, re.S).group(0)
    found = stored.for_jobs([spread])[spread.pk][0]
    assert found.best.value == "United Kingdom" and found.worst.value == "Nigeria"
    assert f"<strong>{found.value * 100:.1f} pts</strong>" in country
    assert f"[{found.ci_low * 100:.1f} pts, {found.ci_high * 100:.1f} pts]" in country
    assert "Nigeria: <strong>" in country and "n=12" in country
    # Fiji has 2 items: greyed, counted, never the worst slice
    assert "+1 greyed" in country and "Fiji (n=2)" in country
    # One value only (everyone is single): no disparity, and the page says why
    marital = re.search(r'<tr data-dimension="marital_status">.*?</tr>', table, re.S).group(0)
    assert "only one slice has enough items to be ranked" in marital


def test_the_disparity_board_ranks_models_by_disparity_and_sorts_by_name(client, dvb):
    _ = dvb
    url = reverse("disparity", args=["divervalue"])
    html = client.get(url, {"dimension": "birth_country"}).content.decode()
    assert re.findall(r'<tr data-model="([^"]+)">', _table(html, "disparity-board")) == [
        "org/spread",
        "org/even",
    ]
    html = client.get(url, {"dimension": "birth_country", "sort": "model"}).content.decode()
    assert re.findall(r'<tr data-model="([^"]+)">', html) == ["org/even", "org/spread"]


def test_the_disparity_board_shows_a_page_of_models_at_a_time_and_its_csv_all(
    client, dvb, monkeypatch
):
    monkeypatch.setattr("leaderboard.boards.views.disparity.ROWS_PER_PAGE", 1)
    url = reverse("disparity", args=["divervalue"])
    first = client.get(url, {"dimension": "birth_country"}).content.decode()
    assert re.findall(r'<tr data-model="([^"]+)">', first) == ["org/spread"]
    assert 'href="?dimension=birth_country&amp;page=2"' in first
    second = client.get(url, {"dimension": "birth_country", "page": 2}).content.decode()
    assert re.findall(r'<tr data-model="([^"]+)">', second) == ["org/even"]
    export = client.get(reverse("disparity-export", args=["divervalue"]), {"page": 2})
    assert len(list(csv.DictReader(io.StringIO(export.content.decode())))) == 2


def test_one_dimensions_disparities_are_read_without_computing_a_jobs_others_again(dvb):
    _, spread, _ = dvb
    stored.for_jobs([spread])
    JobDisparity.objects.filter(job=spread, dimension="region").delete()
    before = JobDisparity.objects.filter(job=spread).count()
    found = stored.for_jobs([spread], "opa", "birth_country")[spread.pk]
    assert [(d.method, d.dimension) for d in found] == [("opa", "birth_country")]
    # A job with stored rows is not recomputed for the one it lacks.
    assert stored.for_jobs([spread], "opa", "region")[spread.pk] == []
    assert JobDisparity.objects.filter(job=spread).count() == before


def test_the_disparity_csv_names_its_file_once_and_holds_each_models_numbers(client, dvb):
    _, spread, _ = dvb
    response = client.get(reverse("disparity-export", args=["divervalue"]), {"dimension": "region"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="divervalue-dvb-1-disparity-opa-region.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_model = {row["model"]: row for row in rows}
    found = next(d for d in stored.for_jobs([spread])[spread.pk] if d.dimension == "region")
    assert float(by_model["org/spread"]["disparity"]) == pytest.approx(found.value)
    assert by_model["org/spread"]["worst"] == "Africa"
    assert by_model["org/spread"]["greyed_slices"] == "1"  # Oceania, 2 items


@pytest.mark.parametrize(
    "params, message",
    [
        ({"dimension": "shoe_size"}, "Unknown slice dimension"),
        ({"method": "mc"}, "Unknown method"),
        ({"release": "r1"}, "No release"),
    ],
)
def test_the_disparity_board_answers_404_naming_what_is_unknown(client, dvb, params, message):
    make_release("r1", signal=False)  # a NaVAB release
    response = client.get(reverse("disparity", args=["divervalue"]), params)
    assert response.status_code == 404
    assert message in response.content.decode()


def test_navab_models_get_a_disparity_by_nation_from_the_same_code(client):
    release = make_release("r2", per_cell=10, signal=False)
    skill = {"us": 1.0, "uk": 0.6, "fr": 0.6, "de": 0.6, "cn": 0.0}
    job = evaluate(make_model("org/alpha"), release, skill=skill)
    html = client.get(reverse("model-detail", args=[job.model_id])).content.decode()
    table = _table(html, "disparity-navab-mc")
    assert re.findall(r'<tr data-dimension="([^"]+)">', table) == ["nation", "mode"]
    found = stored.for_jobs([job])[job.pk][0]
    assert found.dimension == "nation" and found.best.value == "us" and found.worst.value == "cn"
    board = client.get(reverse("board", args=["navab"])).content.decode()
    assert 'id="disparity-link"' in board


def test_the_methodology_page_says_how_the_interval_rechooses_best_and_worst(client, dvb):
    html = client.get(reverse("methodology", args=["divervalue"])).content.decode()
    section = html[html.index('<h2 id="disparity">') :]
    assert "chosen again" in section
    assert "cluster bootstrap" in section and "(by user_id)" in section


def test_the_disparity_board_and_its_csv_cost_the_same_queries_for_2_and_4_models(client, dvb):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leaderboard.boards.cache import invalidate_boards

    release = dvb[0]
    urls = [reverse(name, args=["divervalue"]) for name in ("disparity", "disparity-export")]

    def cold_queries() -> list[int]:
        counts = []
        for url in urls:
            client.get(url)  # disparities computed on first read: not what a read costs
            invalidate_boards()
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        return counts

    few = cold_queries()
    for name in ("org/third", "org/fourth"):
        dvb_evaluate(make_model(name), release, SPREAD)
    # A model's shown fields are read with the others, never one query a model.
    assert cold_queries() == few
