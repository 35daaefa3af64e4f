"""DiverValue-Bench's population pictures: a model's world map and radars on its page, the
board's map of the mean over ranked models, each with its table, built from stored scores in
a constant number of queries; NaVAB's pages keep their own charts only."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.cache import invalidate_boards
from leaderboard.boards.population import drawable_codes, population, scores_by_slice
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease, Item
from tests.factories import (
    evaluate,
    finished_job,
    make_model,
    make_release,
    save_items,
    score_slices,
)

pytestmark = pytest.mark.django_db
DVB = get_benchmark("divervalue")
PROFILE = {
    "region": "Western",
    "age": "25-34 years old",
    "gender": "Female",
    "education": "Vocational",
    "marital_status": "Married",
}


@pytest.fixture
def demo() -> DatasetRelease:
    return import_release(
        DVB.demo_dir, benchmark="divervalue", version="dvb-demo", licence="cc-by-4.0", publish=True
    ).release


@pytest.fixture
def places() -> DatasetRelease:
    """Countries the map draws, one too small for its scale, an unstated one, a name the
    country table lacks and two names of one country."""
    release = make_release("dvb-places", benchmark="divervalue", signal=False)
    counts = {"Japan": 12, "Korea, Republic of": 12, "Hong Kong": 12, "Atlantis": 12}
    counts |= {"Prefer not to say": 11, "Türkiye": 4, "Turkey": 2}
    save_items(
        [
            Item(
                release=release,
                uid=f"{country[:3]}-{i}",
                slices={"birth_country": country, **PROFILE},
                data={"user_id": f"{country}-{i % 3}", "question": "Q?", "answer_w": "w"},
            )
            for country, n in counts.items()
            for i in range(n)
        ]
    )
    return release


def figure(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"no embedded figure {element_id}"
    return json.loads(match.group(1))


def test_a_models_page_maps_its_opa_per_country_and_greys_small_ones(client, demo):
    model = make_model("org/mapped")
    score_slices(model, demo, skill=0.5, by_value={"Japan": 0.9, "Kenya": 0.1})
    response = client.get(model.get_absolute_url())
    html = response.content.decode()

    world = figure(html, "chart-divervalue-map")
    scored, small = world["data"]
    by_code = dict(zip(scored["locations"], scored["z"], strict=True))
    assert by_code["JPN"] > 0.7 > 0.3 > by_code["KEN"]
    # Countries below DiverValue-Bench's min_n of 10 items (8 each in the demo) are drawn in
    # one grey outside the colour scale, never as a score.
    assert set(small["locations"]) == {"MEX", "BRA", "ISR", "NZL", "BIH"}
    assert not set(small["locations"]) & set(scored["locations"])
    assert small["showscale"] is False and small["colorscale"][0][1] == small["colorscale"][1][1]
    assert "BIH" in drawable_codes()
    # Hover: the value, its interval and n (the customdata behind the template).
    japan = scored["customdata"][scored["locations"].index("JPN")]
    assert japan[0] == "Japan" and japan[2] <= japan[1] <= japan[3] and japan[5] == 12
    assert "n=%{customdata[5]}" in scored["hovertemplate"]
    # The unstated country is listed under the map, with its n.
    assert re.search(r"no place stated: <span[^>]*>Prefer not to say \(n=8\)", html)
    assert 'data-topojson="/static/vendor/topojson/"' in html
    assert '<script src="/static/vendor/plotly.min.js" defer></script>' in html


def test_a_models_page_has_a_radar_and_a_table_per_demographic_dimension(client, demo):
    model = make_model("org/radar")
    score_slices(model, demo, skill=0.6)
    html = client.get(model.get_absolute_url()).content.decode()

    for key, values in (("region", 11), ("age", 6), ("gender", 4), ("education", 9)):
        radar = figure(html, f"chart-divervalue-radar-{key}")["data"][0]
        assert len(radar["theta"]) == values + 1  # closed around the circle
        assert radar["theta"][0] == radar["theta"][-1]
        assert f'id="chart-divervalue-radar-{key}-table"' in html
    marital = figure(html, "chart-divervalue-radar-marital_status")["data"][0]
    assert "Widowed" in marital["theta"]
    # The table fallback holds every value with its score, interval and n.
    table = html.split('id="chart-divervalue-radar-gender-table"')[1].split("</details>")[0]
    assert "Non-binary / third gender" in table and ">20</td>" in table and "[" in table
    country_table = html.split('id="chart-divervalue-map-table"')[1].split("</details>")[0]
    assert country_table.count("<tr") == 1 + 16
    assert country_table.count("too few items") == 6  # the five grey countries and unstated


def test_a_small_slice_is_marked_on_its_radar_and_in_its_table(client, demo):
    model = make_model("org/small")
    job = score_slices(model, demo)
    job.scores.filter(slices={"gender": "Prefer not to say"}).update(n=3)
    html = client.get(model.get_absolute_url()).content.decode()

    radar = figure(html, "chart-divervalue-radar-gender")["data"][0]
    few = [c[0] for c in radar["customdata"]].index("Prefer not to say")
    assert radar["theta"][few] == "Prefer not<br>to say"  # long spoke labels on two lines
    assert radar["marker"]["symbol"][few] == "x"
    assert {s for i, s in enumerate(radar["marker"]["symbol"]) if i != few} == {"circle"}
    assert "A grey cross marks a slice below 10 items" in html


def test_places_the_map_cannot_draw_are_listed_under_it(client, places):
    model = make_model("org/places")
    score_slices(model, places)
    html = client.get(model.get_absolute_url()).content.decode()

    scored, small = figure(html, "chart-divervalue-map")["data"]
    assert scored["locations"] == ["JPN", "KOR"]
    assert small["locations"] == ["TUR"]  # 4 items: grey
    notes = html.split('id="chart-divervalue-map-notes"')[1].split("</ul>")[0]
    assert "no place stated: <span" in notes and "Prefer not to say (n=11)" in notes
    assert "does not place: <span" in notes and "Atlantis (n=12)" in notes
    assert "Too small to draw at this scale: <span" in notes and "Hong Kong (n=12)" in notes
    assert "already drawn (the map shows the name with more items): <span" in notes
    assert "Turkey (n=2)" in notes and "Türkiye" not in notes


def test_building_the_pictures_costs_no_query(demo):
    job = score_slices(make_model("org/queries"), demo)
    scores = list(job.scores.all())
    with CaptureQueriesContext(connection) as queries:
        result = population(DVB, scores_by_slice(DVB, scores), "chart-x", "org/queries")
    assert len(queries) == 0
    assert result.map is not None and len(result.map.points) == 16
    assert [p.dimension.key for p in result.radars] == [
        "region",
        "age",
        "gender",
        "education",
        "marital_status",
    ]


def test_the_board_links_a_world_map_of_the_mean_over_ranked_models(client, demo):
    low, high = make_model("org/low"), make_model("org/high")
    score_slices(low, demo, skill=0.2)
    score_slices(high, demo, skill=0.8)
    board = client.get(reverse("board", args=["divervalue"])).content.decode()
    assert 'id="world-map-link"' in board and "/divervalue/map/?release=dvb-demo" in board

    html = client.get(reverse("world-map", args=["divervalue"])).content.decode()
    scored, _ = figure(html, "chart-board-map")["data"]
    japan = scored["customdata"][scored["locations"].index("JPN")]
    lows = low.jobs.get().scores.get(slices={"birth_country": "Japan"}, metric="opa").value
    highs = high.jobs.get().scores.get(slices={"birth_country": "Japan"}, metric="opa").value
    assert japan[1] == pytest.approx((lows + highs) / 2)
    assert japan[4] == 2 and "mean over %{customdata[4]} models" in scored["hovertemplate"]
    assert "the mean over 2 ranked models" in html


def test_the_world_map_takes_a_constant_number_of_queries(client, demo):
    score_slices(make_model("org/one"), demo)
    url = reverse("world-map", args=["divervalue"])
    client.get(url)  # the board version's row is created on a first request
    invalidate_boards()
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for i in range(4):
        score_slices(make_model(f"org/more-{i}"), demo, skill=0.1 * i)
    invalidate_boards()  # as a finished job does
    with CaptureQueriesContext(connection) as five:
        html = client.get(url).content.decode()
    assert "the mean over 5 ranked models" in html
    assert len(five) == len(one)


def test_the_world_map_draws_no_rank_spread_it_does_not_show(client, demo, monkeypatch):
    score_slices(make_model("org/one"), demo, skill=0.3)
    score_slices(make_model("org/two"), demo, skill=0.7)

    def resampled(*args: object) -> None:
        raise AssertionError("the map resampled the board's ranks")

    monkeypatch.setattr("leaderboard.boards.queries.rank_spread", resampled)
    html = client.get(reverse("world-map", args=["divervalue"])).content.decode()
    assert "the mean over 2 ranked models" in html


def test_the_world_map_says_when_no_model_is_ranked(client, demo):
    html = client.get(reverse("world-map", args=["divervalue"])).content.decode()
    assert 'id="map-empty"' in html and "No model is ranked on release dvb-demo yet" in html
    assert "plotly.min.js" not in html


def test_a_model_without_divervalue_results_has_a_clear_empty_state(client, demo):
    navab = make_release("r1", per_cell=2, signal=False)
    model = make_model("org/navab-only")
    evaluate(model, navab, skill=0.7)
    html = client.get(model.get_absolute_url()).content.decode()
    assert 'id="population-divervalue"' not in html and "chart-divervalue" not in html

    asked = client.get(model.get_absolute_url(), {"release": "dvb-demo"}).content.decode()
    assert "No finished evaluation of this model on release dvb-demo yet" in asked
    assert 'id="population-divervalue"' not in asked

    # A finished job with no per-slice scores says so instead of drawing empty charts.
    finished_job(make_model("org/bare"), demo, methods=["opa"])
    bare = make_model("org/bare2")
    job = score_slices(bare, demo)
    job.scores.exclude(slices={}).delete()
    empty = client.get(bare.get_absolute_url()).content.decode()
    assert "This evaluation has no per-slice OPA scores to chart." in empty


def test_navab_pages_are_unaffected(client):
    navab = make_release("r1", per_cell=2, signal=False)
    model = make_model("org/navab")
    evaluate(model, navab, skill=0.7)
    page = client.get(model.get_absolute_url()).content.decode()
    assert 'id="chart-radar-navab"' in page  # its radar over nations stays
    assert "population-" not in page and "data-topojson" not in page
    board = client.get(reverse("board", args=["navab"])).content.decode()
    assert "world-map-link" not in board
    assert client.get(reverse("world-map", args=["navab"])).status_code == 404
