"""Rank spread: each ranked row's best and worst rank over paired bootstrap resamples of the
items, drawn from the stored per-item results, on the page, in the API and in the exports."""

from __future__ import annotations

import csv
import io
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard.boards.cache import board_version, invalidate_boards
from leaderboard.boards.charts import rank_whiskers
from leaderboard.boards.queries import BoardQuery, build_board
from leaderboard.boards.rank_spread import RANK_RESAMPLES
from leaderboard.boards.ranking import rank_ranges
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import sample_details
from leaderboard.evals.models import EvaluationJob
from tests.factories import (
    DVB_COUNTRIES,
    dvb_evaluate,
    dvb_release,
    evaluate,
    make_model,
    make_release,
    ranked_model,
)

PAGE = reverse("board", args=["navab"])
API = "/api/benchmarks/navab/leaderboard/"


def test_it_takes_the_best_and_worst_rank_over_the_replicates():
    replicates = [[0.9, 0.8, 0.1], [0.7, 0.8, 0.1], [0.9, 0.9, 0.2]]
    # Equal scores share the better rank; the third is last in every replicate.
    assert rank_ranges(replicates) == [(1, 2), (1, 2), (3, 3)]
    assert rank_ranges(replicates, higher_is_better=False) == [(2, 3), (2, 3), (1, 1)]


def test_a_replicate_missing_a_model_is_left_out_for_everyone():
    replicates = [[0.9, 0.1], [math.nan, 0.8]]
    assert rank_ranges(replicates) == [(1, 1), (2, 2)]
    assert rank_ranges([[math.nan, 0.8]]) == [None, None]


@pytest.fixture
def big_release(db):
    return make_release(per_cell=30, signal=False)


def spread(board) -> dict[str, tuple[int | None, int | None]]:
    return {row.name: (row.rank_best, row.rank_worst) for row in board.ranked}


def test_models_far_apart_keep_their_rank_in_every_resample(big_release):
    for name, skill in (("org/always", 1.0), ("org/half", 0.5), ("org/never", 0.0)):
        evaluate(make_model(name), big_release, skill=skill)
    for column in ("overall", "us"):
        board = build_board(BoardQuery(release=big_release, column=column))
        assert board.rank_spread_note == ""
        assert spread(board) == {"org/always": (1, 1), "org/half": (2, 2), "org/never": (3, 3)}


def test_models_of_equal_skill_spread_over_each_others_ranks(big_release):
    for name in ("org/one", "org/two"):
        evaluate(make_model(name), big_release, skill=0.6)
    evaluate(make_model("org/never"), big_release, skill=0.0)
    board = build_board(BoardQuery(release=big_release))  # the mean over nations
    ranks = {row.name: row.rank for row in board.ranked}
    assert ranks["org/one"] == ranks["org/two"] == 1  # their intervals overlap
    assert spread(board) == {"org/one": (1, 2), "org/two": (1, 2), "org/never": (3, 3)}


def test_a_metric_resampled_by_user_gets_its_rank_range_from_the_item_outcomes(db):
    release = dvb_release(users_per_country=4, items_per_user=5)
    margins = {"United Kingdom": 5.0, "Japan": 5.0, "Nigeria": 5.0, "Brazil": 5.0, "Fiji": 5.0}
    dvb_evaluate(make_model("org/aligned"), release, margins)
    dvb_evaluate(make_model("org/opposed"), release, {k: -v for k, v in margins.items()})
    board = build_board(BoardQuery(release=release, method="opa"))
    # Users (clusters) are resampled; the models sit far apart either way.
    assert board.rank_spread_note == ""
    assert spread(board) == {"org/aligned": (1, 1), "org/opposed": (2, 2)}


COUNTRIES = [country for country, *_ in DVB_COUNTRIES] + ["Fiji"]
CLOSE_MARGINS = {"org/a": 0.3, "org/b": 0.2, "org/c": 0.1, "org/d": -0.6}


def close_dvb_models(release):
    """Four DiverValue-Bench models close enough for their ranks to cross in resamples."""
    for name, margin in CLOSE_MARGINS.items():
        dvb_evaluate(make_model(name), release, dict.fromkeys(COUNTRIES, margin))


def test_rank_spreads_are_those_drawn_from_the_per_item_rows_and_files(db, big_release):
    # Pinned from the spread as it was drawn from the rows and each job's details file,
    # before the values were packed: every figure a board shows stays the same.
    close_dvb_models(dvb_release(users_per_country=4, items_per_user=5))
    dvb = BoardQuery(release=DatasetRelease.objects.get(version="dvb-1"), method="opa")
    assert spread(build_board(dvb)) == {
        "org/a": (1, 3), "org/b": (1, 3), "org/c": (1, 4), "org/d": (3, 4)
    }  # fmt: skip
    for name, skill in (("org/x", 0.75), ("org/y", 0.62), ("org/z", 0.58)):
        evaluate(make_model(name), big_release, skill=skill)
    overall = build_board(BoardQuery(release=big_release))  # the mean over nations
    assert spread(overall) == {"org/x": (1, 1), "org/y": (2, 3), "org/z": (2, 3)}
    us = BoardQuery(release=big_release, column="us")
    assert spread(build_board(us)) == {"org/x": (1, 3), "org/y": (1, 3), "org/z": (1, 3)}


def test_a_rank_spread_needs_no_details_file(db):
    release = dvb_release(users_per_country=4, items_per_user=5)
    close_dvb_models(release)
    with_files = spread(build_board(BoardQuery(release=release, method="opa")))
    for job in EvaluationJob.objects.all():
        sample_details.remove_job(job.pk)  # OPA is in each item's outcome, kept in the file
    invalidate_boards()
    board = build_board(BoardQuery(release=release, method="opa"))
    assert board.rank_spread_note == ""
    assert spread(board) == with_files


def test_a_rank_spread_takes_as_many_queries_at_any_number_of_models(db):
    release = dvb_release(users_per_country=4, items_per_user=5)
    board_version()  # the version row is made once, by the first board ever built

    def queries(models: int) -> int:
        for i in range(models):
            dvb_evaluate(
                make_model(f"org/m{models}-{i}"), release, dict.fromkeys(COUNTRIES, 0.1 * i)
            )
        invalidate_boards()  # cold: the cell's items are read again too
        with CaptureQueriesContext(connection) as captured:
            board = build_board(BoardQuery(release=release, method="opa"))
        assert board.rank_spread_note == "" and len(board.ranked) == models
        EvaluationJob.objects.all().delete()
        return len(captured.captured_queries)

    assert queries(2) == queries(6)


def test_a_board_without_per_item_results_says_why_it_has_no_rank_range(client, big_release):
    ranked_model("org/scores-only", big_release, 0.7)
    evaluate(make_model("org/with-items"), big_release, skill=0.6)
    board = build_board(BoardQuery(release=big_release))
    assert spread(board) == {"org/with-items": (None, None), "org/scores-only": (None, None)}
    assert board.rank_spread_note == "1 ranked model has no stored per-item results of Correct rate"
    page = client.get(PAGE).content.decode()
    assert "Not shown on this view: 1 ranked model has no stored per-item results" in page


def test_the_page_api_and_exports_give_the_rank_range(client, big_release):
    for name in ("org/one", "org/two"):
        evaluate(make_model(name), big_release, skill=0.6)
    evaluate(make_model("org/never"), big_release, skill=0.0)

    page = client.get(PAGE).content.decode()
    assert "Rank range" in page and f"{RANK_RESAMPLES} bootstrap resamples" in page
    assert page.count('<td class="num col-ranks"><span title="Best and worst rank') == 3
    assert ">1\u20132<" in page and ">3<" in page

    body = client.get(API).json()
    assert body["rank_resamples"] == RANK_RESAMPLES and body["rank_spread_note"] == ""
    rows = {row["model"]: (row["rank_best"], row["rank_worst"]) for row in body["results"]}
    assert rows == {"org/one": (1, 2), "org/two": (1, 2), "org/never": (3, 3)}

    exported = client.get(reverse("board-export", args=["navab", "json"])).json()
    assert {r["model"]: r["rank_worst"] for r in exported["rows"]}["org/one"] == 2
    text = client.get(reverse("board-export", args=["navab", "csv"])).content.decode()
    records = {r["model"]: r for r in csv.DictReader(io.StringIO(text))}
    assert (records["org/never"]["rank_best"], records["org/never"]["rank_worst"]) == ("3", "3")


def test_the_whisker_chart_lists_ranked_models_best_first_with_their_intervals(client, big_release):
    for name, skill in (("org/half", 0.5), ("org/always", 1.0), ("org/never", 0.0)):
        evaluate(make_model(name), big_release, skill=skill)
    board = build_board(BoardQuery(release=big_release))
    figure = rank_whiskers(board)
    trace = figure["data"][0]
    # Named as the board names them (name@revision).
    assert [y.split("@")[0] for y in trace["y"]] == ["org/always", "org/half", "org/never"]
    assert [round(v, 6) for v in trace["x"]] == [
        round(row.primary.value, 6) for row in board.ranked if row.primary
    ]
    assert trace["customdata"][1][0].startswith("rank 2, range 2")
    low, high = figure["layout"]["xaxis"]["range"]
    assert low <= min(r.primary.low for r in board.ranked if r.primary)
    assert high >= max(r.primary.high for r in board.ranked if r.primary)
    assert 'data-chart="chart-ranks"' in client.get(PAGE).content.decode()
