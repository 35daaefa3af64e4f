"""A release with no triples in the selected mode but finished jobs on it: every view of the
board answers, and no model is ranked on a mode with nothing to rank."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard.boards.queries import BoardQuery, build_board
from leaderboard.catalog.models import DatasetRelease
from tests.factories import ranked_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def official_only(release: DatasetRelease) -> DatasetRelease:
    # Scores for every cell exist (jobs ran on an earlier state of the release), triples only
    # in the official mode: the quoted board covers no nation.
    ranked_model("org/alpha", release, 0.8)
    release.items.in_slice("mode", "quoted").delete()
    return release


def test_it_ranks_nobody_when_the_mode_covers_no_nation(official_only):
    board = build_board(BoardQuery(release=official_only, slices=(("mode", "quoted"),)))
    assert board.columns == []
    assert [(row.name, row.rank, row.complete) for row in board.rows] == [
        ("org/alpha", None, False)
    ]


@pytest.mark.parametrize(
    "url",
    [
        reverse("board", args=["navab"]),
        reverse("board-export", args=["navab", "csv"]),
        reverse("board-export", args=["navab", "json"]),
        "/api/leaderboard/",
    ],
)
def test_every_view_of_the_overall_board_answers(client, official_only, url):
    response = client.get(url, {"mode": "quoted"})
    assert response.status_code == 200
    assert b"org/alpha" in response.content


def test_the_other_mode_still_ranks(client, official_only):
    board = build_board(BoardQuery(release=official_only, slices=(("mode", "official"),)))
    assert [(row.name, row.rank) for row in board.rows] == [("org/alpha", 1)]
