"""A board's figures, written as plain dicts: the JSON plotly itself sends for them, embedded
safely in the page."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import plotly.graph_objects as go
import pytest

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.charts import (
    column_heatmap,
    method_agreement,
    rank_whiskers,
    scale_note,
    score_vs_params,
)
from leaderboard.boards.figures import Figure, as_script, figure_of, from_plotly
from leaderboard.boards.queries import BoardQuery, board_scores, build_board, method_scores
from tests.factories import evaluate, make_model

pytestmark = pytest.mark.django_db


def decoded(script: str) -> object:
    match = re.fullmatch(r'<script id="[^"]+" type="application/json">(.*)</script>', script, re.S)
    assert match
    return json.loads(match.group(1))


def names(board):
    return {row.model_id: row.display_name for row in board.ranked}


@pytest.fixture
def boards(release):
    for name, params, skill in (("org/big", 70.0, 0.8), ("org/mid", 7.0, 0.6), ("org/s", 1.5, 0.3)):
        evaluate(make_model(name, params_billions=params), release, skill=skill)
    first, second = get_benchmark("navab").methods[:2]
    return (
        build_board(BoardQuery(release=release, method=first.key)),
        build_board(BoardQuery(release=release, method=second.key)),
    )


def test_each_board_figure_is_the_json_plotly_sends_for_it(boards):
    first, second = boards
    plotted: list[Figure] = [
        column_heatmap(first, "Nation"),
        rank_whiskers(first),
        score_vs_params(first),
        method_agreement(board_scores(first), board_scores(second), names(first)),
    ]
    default_template = go.Figure().to_plotly_json()["layout"]["template"]
    for figure in plotted:
        sent = decoded(as_script(figure, "chart-x"))
        # Plotly validates the figure's every property (a wrong key or value raises), writes
        # titles as {"text": ...}, a colour scale's name as its stops, drops unset (None)
        # properties, and adds its default template: the same figure again is none of those.
        assert sent == from_plotly(go.Figure(figure))
        assert sent["layout"]["template"] == default_template
    heatmap, whiskers, params, agreement = plotted
    assert (
        heatmap["data"][0]["colorscale"]
        == from_plotly(go.Figure(go.Heatmap(colorscale="Viridis")))["data"][0]["colorscale"]
    )
    assert [len(f["data"][0]["x"]) for f in (whiskers, params, agreement)] == [3, 3, 3]
    assert params["data"][0]["customdata"] == ["70B", "7B", "1.5B"]


def test_the_captions_read_the_scales_the_figures_are_drawn_with(boards):
    first, second = boards
    heatmap = column_heatmap(first, "Nation")
    low, high = heatmap["data"][0]["zmin"], heatmap["data"][0]["zmax"]
    assert scale_note(heatmap, first.metric).startswith(
        f"The colour scale runs from {low:.1%} to {high:.1%}"
    )
    assert scale_note(score_vs_params(first), first.metric).startswith("The score axis runs")
    agreement = method_agreement(board_scores(first), board_scores(second), names(first))
    assert scale_note(agreement, first.metric).startswith("Both axes run ")


def test_a_heatmap_without_values_sets_no_colour_bounds(boards):
    first, _ = boards
    first.rows = []
    heatmap = column_heatmap(first, "Nation")
    assert "zmin" not in heatmap["data"][0] and scale_note(heatmap, first.metric) == ""


def test_a_name_cannot_end_the_script_and_a_missing_number_is_null():
    figure = figure_of(
        [{"type": "scatter", "x": [math.nan, 1.0, math.inf], "text": ["</script><b>&"]}], {}
    )
    script = as_script(figure, "chart-x")
    assert script.count("</script>") == 1 and "<b>" not in script and "&" not in script
    sent = decoded(script)
    assert sent["data"][0]["x"] == [None, 1.0, None]
    assert sent["data"][0]["text"] == ["</script><b>&"]


def test_the_agreement_charts_other_method_scores_are_those_its_own_board_ranks(release):
    for name, skill in (("org/big", 0.8), ("org/mid", 0.6), ("org/s", 0.3)):
        evaluate(make_model(name), release, skill={"us": skill, "cn": 1 - skill})
    first, second = get_benchmark("navab").methods[:2]
    for column in ("overall", "us"):
        query = BoardQuery(release=release, method=first.key, column=column)
        read = method_scores(build_board(query), second)
        built = board_scores(build_board(replace(query, method=second.key)))
        # The database adds an overall's columns in its own order: equal to the last bits.
        assert (read.method, read.metric) == (built.method, built.metric)
        assert read.values == pytest.approx(built.values, rel=1e-12) and len(read.values) == 3
