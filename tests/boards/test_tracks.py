"""Tracks never share a ranking: a chat model (generated letters) is on the generative board
only, an open model (log-likelihoods) on the log-likelihood boards only; the generative board
counts what could not be read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard.evals.models import Score
from tests.factories import (
    finished_job,
    make_model,
    make_release,
    ranked_model,
    set_scores,
    uniform_cells,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_tracks():
    release = make_release(per_cell=1)
    ranked_model("org/open-model", release, 0.7)
    chat = make_model("acme-chat-large")
    job = finished_job(chat, release)
    set_scores(job, uniform_cells(0.6, methods=["mc_gen"]))
    for score in Score.objects.filter(job=job):
        score.parts |= {
            "unparsable": {"value": 0.0, "n": 3},
            "ambiguous": {"value": 0.0, "n": 2},
            "empty": {"value": None, "n": 0},
            "refused": {"value": 0.0, "n": 1},
            "blocked": {"value": None, "n": 0},
        }
        score.save()
    return release


def board(client, method: str) -> str:
    return str(client.get(reverse("board", args=["navab"]), {"method": method}).content.decode())


def test_each_model_is_ranked_on_its_own_track_only(client, both_tracks):
    loglik = board(client, "mc")
    generative = board(client, "mc_gen")
    assert "org/open-model" in loglik and "acme-chat-large" not in loglik
    assert "acme-chat-large" in generative and "org/open-model" not in generative
    assert "Multiple choice · log-likelihood track" in generative
    assert "Multiple choice (generated letter) · generative track" in loglik


def test_the_generative_board_counts_unanswered_items(client, both_tracks):
    page = board(client, "mc_gen")
    assert "Unparsable / Ambiguous / Empty / Refused / Blocked" in page
    # The overall column sums each count over the five nations (3, 2 and 1 per cell).
    assert "/ 15 / 10 / 0 / 5 / 0" in page


def test_the_generative_boards_export_names_counts_as_counts(client, both_tracks):
    url = reverse("board-export", args=["navab", "json"])
    body = client.get(url, {"method": "mc_gen"}).content.decode()
    assert '"unparsable_count": 15' in body.replace("15.0", "15")
    assert '"pos_rate"' in body and "unparsable_rate" not in body


def test_a_method_no_model_was_scored_by_says_so_rather_than_calling_the_release_empty(client):
    ranked_model("org/open-model", make_release(per_cell=1), 0.7)
    page = board(client, "mc_gen")
    assert "No model has a finished evaluation" not in page
    assert "Multiple choice (generated letter) has scored no model on release" in page
    assert "1 model evaluated on it has scores from other methods" in page
