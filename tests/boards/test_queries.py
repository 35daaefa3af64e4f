"""What a board holds: means, shared ranks, incomplete models, filters and sorting."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest
from django.utils import timezone

from leaderboard.boards.queries import OVERALL, BoardQuery, build_board
from leaderboard.evals.models import EvaluationJob, JobStatus
from tests.factories import (
    NATIONS,
    evaluate,
    finished_job,
    make_model,
    ranked_model,
    set_scores,
    uniform_cells,
)

pytestmark = pytest.mark.django_db


def names(board):
    return [row.name for row in board.rows]


def test_it_ranks_the_overall_board_by_the_mean_over_nations(release):
    ranked_model("org/low", release, 0.3)
    ranked_model("org/high", release, 0.9)
    mixed = make_model("org/mixed")
    cells = uniform_cells(0.5)
    cells[("us", "quoted", "mc")] = (1.0, 0.95, 1.0)  # mean over nations: 0.6
    set_scores(finished_job(mixed, release), cells)

    board = build_board(BoardQuery(release=release))

    assert names(board) == ["org/high", "org/mixed", "org/low"]
    assert [row.rank for row in board.rows] == [1, 2, 3]
    mixed_row = board.rows[1]
    assert mixed_row.primary.value == pytest.approx(0.6)
    assert mixed_row.cells["us"].value == 1.0
    assert set(mixed_row.cells) == set(NATIONS)
    assert mixed_row.n == 5 * 100


def test_a_model_missing_a_nation_is_unranked_overall_and_listed_last(release):
    ranked_model("org/full", release, 0.3)
    partial = make_model("org/partial")
    set_scores(finished_job(partial, release), uniform_cells(0.9, nations=["us", "uk"]))

    overall = build_board(BoardQuery(release=release))
    assert names(overall) == ["org/full", "org/partial"]
    assert overall.rows[1].rank is None and not overall.rows[1].complete
    assert [r.name for r in overall.incomplete] == ["org/partial"]

    us_board = build_board(BoardQuery(release=release, column="us"))
    assert [(r.name, r.rank) for r in us_board.rows] == [("org/partial", 1), ("org/full", 2)]
    fr_board = build_board(BoardQuery(release=release, column="fr"))
    assert [(r.name, r.rank) for r in fr_board.rows] == [("org/full", 1), ("org/partial", None)]


def test_models_share_a_rank_while_their_intervals_overlap(release):
    ranked_model("org/a", release, 0.80, 0.03)
    ranked_model("org/b", release, 0.76, 0.03)  # overlaps a
    ranked_model("org/c", release, 0.50, 0.03)
    board = build_board(BoardQuery(release=release, column="us"))
    assert [(r.name, r.rank) for r in board.rows] == [("org/a", 1), ("org/b", 1), ("org/c", 3)]
    assert board.tied_ranks == {1}


def test_filters_hide_rows_without_changing_ranks(release):
    ranked_model("org/big", release, 0.9, params_billions=70.0, model_type="instruct")
    ranked_model("org/small", release, 0.5, params_billions=1.0, model_type="base")
    board = build_board(BoardQuery(release=release, model_types=("base",)))
    assert [(r.name, r.rank) for r in board.rows] == [("org/small", 2)]
    assert board.total == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"model_types": ("instruct",)}, ["org/llama-instruct"]),
        ({"precisions": ("float16",)}, ["org/qwen-small"]),
        ({"sizes": ("lt3",)}, ["org/qwen-small"]),
        ({"sizes": ("10to35", "gt35")}, ["org/llama-instruct"]),
        ({"sizes": ("unknown",)}, ["org/mystery"]),
        ({"family": "LLAMA"}, ["org/llama-instruct"]),
        ({"search": "qwen"}, ["org/qwen-small"]),
        ({"search": "llam"}, ["org/llama-instruct"]),
        ({"model_types": ("base",), "sizes": ("3to10",)}, []),
    ],
)
def test_each_filter_selects_its_models(release, query, expected):
    ranked_model(
        "org/llama-instruct",
        release,
        0.8,
        params_billions=13.0,
        model_type="instruct",
        family="llama",
    )
    ranked_model(
        "org/qwen-small", release, 0.7, params_billions=0.5, precision="float16", family="qwen"
    )
    ranked_model("org/mystery", release, 0.6, params_billions=None)
    assert names(build_board(BoardQuery(release=release, **query))) == expected


def test_it_uses_each_models_latest_finished_job(release):
    model = make_model("org/model")
    old = finished_job(model, release, finished_at=timezone.now() - timedelta(days=2))
    set_scores(old, uniform_cells(0.2))
    new = finished_job(model, release)
    set_scores(new, uniform_cells(0.8))
    EvaluationJob.objects.create(model=model, release=release, attempt=3, status=JobStatus.FAILED)

    (row,) = build_board(BoardQuery(release=release)).rows
    assert row.job_id == new.pk
    assert row.primary.value == pytest.approx(0.8)


def test_held_out_evaluations_are_never_ranked(release):
    model = make_model("org/aligned")
    job = finished_job(model, release)
    job.exclude_uids = [release.items.first().uid]
    job.save()
    set_scores(job, uniform_cells(0.99))
    assert build_board(BoardQuery(release=release)).rows == []


def test_it_reads_the_chosen_mode_and_method(release):
    model = make_model("org/model")
    cells = uniform_cells(0.5)
    cells.update({(n, "official", "aj"): (0.9, 0.85, 0.95) for n in NATIONS})
    set_scores(finished_job(model, release), cells)
    assert build_board(
        BoardQuery(release=release, slices=(("mode", "official"),), method="aj")
    ).rows[0].primary.value == pytest.approx(0.9)
    assert build_board(BoardQuery(release=release, slices=(("mode", "quoted"),), method="aj")).rows[
        0
    ].primary.value == pytest.approx(0.5)


def test_models_without_a_job_on_the_release_are_absent(release):
    ranked_model("org/evaluated", release, 0.5)
    make_model("org/never-run")
    assert names(build_board(BoardQuery(release=release))) == ["org/evaluated"]


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("rank", "", ["b-70b", "c-1b", "a-7b"]),
        ("rank", "desc", ["a-7b", "c-1b", "b-70b"]),
        ("score", "asc", ["a-7b", "c-1b", "b-70b"]),
        ("name", "", ["a-7b", "b-70b", "c-1b"]),
        ("name", "desc", ["c-1b", "b-70b", "a-7b"]),
        ("params", "", ["c-1b", "a-7b", "b-70b"]),
        ("params", "desc", ["b-70b", "a-7b", "c-1b"]),
        ("us", "", ["a-7b", "c-1b", "b-70b"]),
    ],
)
def test_sorting_keeps_incomplete_models_last(release, sort, order, expected):
    for name, value, size in (("a-7b", 0.3, 7.0), ("b-70b", 0.9, 70.0), ("c-1b", 0.6, 1.0)):
        model = make_model(name, params_billions=size)
        cells = uniform_cells(value)
        cells[("us", "quoted", "mc")] = (1.0 - value, 0.0, 1.0)
        set_scores(finished_job(model, release), cells)
    partial = make_model("0-partial", params_billions=100.0)
    set_scores(finished_job(partial, release), uniform_cells(0.99, nations=["cn"]))

    board = build_board(BoardQuery(release=release, column=OVERALL, sort=sort, order=order))
    assert names(board) == [*expected, "0-partial"]


def test_a_board_read_back_from_the_cache_is_the_board_built(release):
    for name, skill in (("org/big", 0.8), ("org/small", 0.3)):
        evaluate(make_model(name), release, skill={"us": skill, "cn": 1 - skill})
    for column in (OVERALL, "us"):
        board = build_board(BoardQuery(release=release, column=column))
        assert board.ranked and all(row.cells for row in board.rows)
        read = pickle.loads(pickle.dumps(board, pickle.HIGHEST_PROTOCOL))
        assert read == board and read is not board
        assert [type(row.primary) for row in read.rows] == [type(row.primary) for row in board.rows]
