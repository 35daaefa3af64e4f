"""The leaderboard page: tabs, filters, columns, sorting, uncertainty and charts."""

from __future__ import annotations

import json
import math
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from leaderboard.boards.views.board import ROWS_PER_PAGE
from tests.factories import (
    evaluate,
    finished_job,
    make_model,
    make_release,
    ranked_model,
    set_scores,
    uniform_cells,
)

pytestmark = pytest.mark.django_db
URL = reverse("board", args=["navab"])


def row_names(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-model="([^"]+)"', html)


def test_it_shows_the_overall_board_with_nation_columns_and_intervals(client, release):
    ranked_model("org/alpha", release, 0.8, 0.04)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert row_names(html) == ["org/alpha"]
    for code in ("CN", "US", "UK", "FR", "DE"):
        assert f">{code}" in html
    assert html.count("76\u201384%") == 5  # every nation's cell shows its interval, compactly


def test_a_nation_board_ranks_on_that_nation(client, release):
    ranked_model("org/alpha", release, 0.5)
    beta = make_model("org/beta")
    cells = uniform_cells(0.3)
    cells[("fr", "quoted", "mc")] = (0.9, 0.85, 0.95)
    set_scores(finished_job(beta, release), cells)
    html = client.get(URL, {"nation": "fr"}).content.decode()
    assert row_names(html) == ["org/beta", "org/alpha"]
    assert "<title>Leaderboard · NaVAB · France" in html


def test_shared_ranks_and_incomplete_models_are_marked(client, release):
    ranked_model("org/a", release, 0.80, 0.05)
    ranked_model("org/b", release, 0.78, 0.05)
    partial = make_model("org/partial")
    set_scores(finished_job(partial, release), uniform_cells(0.9, nations=["us"]))
    html = client.get(URL).content.decode()
    assert html.count(">=1</span>") == 2
    assert row_names(html)[-1] == "org/partial"
    assert 'class="badge badge-incomplete"' in html


@pytest.mark.parametrize(
    "params", [{"nation": "xx"}, {"mode": "nope"}, {"method": "zz"}, {"release": "r9"}]
)
def test_unknown_view_state_is_not_found(client, release, params):
    assert client.get(URL, params).status_code == 404


def test_draft_releases_are_for_staff_only(client, admin_client, release):
    draft = make_release("draft-1", per_cell=4, published=False)
    ranked_model("org/alpha", draft, 0.5)
    assert client.get(URL, {"release": draft.version}).status_code == 404
    response = admin_client.get(URL, {"release": draft.version})
    assert response.status_code == 200
    assert row_names(response.content.decode()) == ["org/alpha"]


def test_filters_and_search_come_from_the_url(client, release):
    ranked_model("org/llama-7b", release, 0.7, model_type="instruct", family="llama")
    ranked_model("org/qwen-1b", release, 0.6, params_billions=1.0, family="qwen")
    html = client.get(URL, {"type": "instruct"}).content.decode()
    assert row_names(html) == ["org/llama-7b"]
    assert 'value="instruct" data-autosubmit checked' in html
    assert row_names(client.get(URL, {"q": "qwen"}).content.decode()) == ["org/qwen-1b"]
    assert row_names(client.get(URL, {"size": "lt3"}).content.decode()) == ["org/qwen-1b"]
    assert row_names(client.get(URL, {"family": "LLAMA"}).content.decode()) == ["org/llama-7b"]
    none = client.get(URL, {"q": "mistral"}).content.decode()
    assert "No model matches these filters" in none


def test_the_column_chooser_state_lives_in_the_url(client, release):
    ranked_model("org/alpha", release, 0.5)
    default = client.get(URL).content.decode()
    # Its scores come without per-item results: no rank range to show, so that column hides too.
    assert re.search(r'class="table board hide-ranks hide-family hide-revision"', default)
    chosen = client.get(URL + "?col=family&col=ci").content.decode()
    assert (
        'class="table board hide-ranks hide-params hide-type hide-precision hide-n hide-posneg '
        'hide-revision"' in chosen
    )
    assert 'value="family" data-column checked' in chosen
    nothing = client.get(URL + "?col=").content.decode()
    assert (
        "hide-params hide-type hide-precision hide-ci hide-n hide-posneg hide-family hide-revision"
        in nothing
    )


def test_sort_headers_link_to_the_sorted_view_and_reverse_when_active(client, release):
    ranked_model("org/alpha", release, 0.5)
    html = client.get(URL, {"nation": "us", "q": "alp"}).content.decode()
    assert 'href="?nation=us&amp;q=alp&amp;sort=name"' in html
    sorted_html = client.get(URL, {"nation": "us", "sort": "name"}).content.decode()
    assert 'aria-sort="ascending"' in sorted_html
    assert 'href="?nation=us&amp;sort=name&amp;order=desc"' in sorted_html


def test_sorting_by_a_column_reorders_rows(client, release):
    ranked_model("org/b-big", release, 0.9, params_billions=70.0)
    ranked_model("org/a-small", release, 0.4, params_billions=1.0)
    assert row_names(client.get(URL).content.decode()) == ["org/b-big", "org/a-small"]
    assert row_names(client.get(URL, {"sort": "name"}).content.decode()) == [
        "org/a-small",
        "org/b-big",
    ]
    assert row_names(client.get(URL, {"sort": "params", "order": "desc"}).content.decode()) == [
        "org/b-big",
        "org/a-small",
    ]


def test_long_boards_are_paginated(client, release):
    for i in range(ROWS_PER_PAGE + 3):
        ranked_model(f"org/m{i:03d}", release, 0.5)
    first = client.get(URL).content.decode()
    assert len(row_names(first)) == ROWS_PER_PAGE
    second = client.get(URL, {"page": 2}).content.decode()
    assert len(row_names(second)) == 3


def test_charts_are_embedded_as_json_and_plotly_is_served_locally(client, release):
    evaluate(make_model("org/alpha", params_billions=7.0), release, skill=0.8)
    evaluate(make_model("org/beta", params_billions=1.5), release, skill=0.4)
    html = client.get(URL).content.decode()
    for chart in ("chart-heatmap", "chart-params", "chart-agreement"):
        match = re.search(
            rf'<script id="{chart}" type="application/json">(.*?)</script>', html, re.S
        )
        assert match, chart
        assert json.loads(match.group(1))["data"]
    heatmap = json.loads(
        re.search(r'id="chart-heatmap" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert heatmap["data"][0]["type"] == "heatmap"
    assert heatmap["data"][0]["x"] == [
        "China",
        "United States",
        "United Kingdom",
        "France",
        "Germany",
    ]
    params_chart = json.loads(
        re.search(r'id="chart-params" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert params_chart["layout"]["xaxis"]["type"] == "log"
    assert '<script src="/static/vendor/plotly.min.js" defer></script>' in html
    assert "cdn" not in html.lower()
    assert finders.find("vendor/plotly.min.js")


def test_an_empty_release_says_so(client, release):
    html = client.get(URL).content.decode()
    assert "No model has a finished evaluation on release r1 yet" in html


def test_the_parameter_axis_keeps_a_labelled_tick_when_every_model_is_in_one_decade(
    client, release
):
    # The demo's tiny models: 57K and 72K parameters, between the 10K and 100K ticks.
    evaluate(make_model("org/small", params_billions=5.67e-5), release, skill=0.8)
    evaluate(make_model("org/smaller", params_billions=7.16e-5), release, skill=0.4)
    html = client.get(URL).content.decode()
    chart = re.search(r'id="chart-params" type="application/json">(.*?)</script>', html, re.S)
    xaxis = json.loads(chart.group(1))["layout"]["xaxis"]
    low, high = xaxis["range"]
    labelled = [
        text
        for t, text in zip(xaxis["tickvals"], xaxis["ticktext"], strict=True)
        if low <= math.log10(t) <= high
    ]
    assert labelled == ["10K", "100K"]
