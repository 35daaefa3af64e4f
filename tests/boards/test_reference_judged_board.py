"""The reference-judged AJ board: one column that ranks open and served models together, the
judge that scored them named, the track labelled, and log-likelihood boards without models
that give no log-likelihoods."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from leaderboard.boards.queries import BoardQuery, build_board
from leaderboard.evals.models import LanguageModel
from tests.factories import finished_job, make_model, set_scores, uniform_cells

pytestmark = pytest.mark.django_db
URL = reverse("board", args=["navab"])
JUDGE = "/srv/judges/tiny-judge"
SHOWN = "./tiny-judge"  # a local judge by its folder's name, never the server path


def row_names(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-model="([^"]+)"', html)


def judged(model: LanguageModel, release, scores: dict[str, float], judge: str = JUDGE) -> None:
    """A finished job with uniform scores per method and the reference judge on its card."""
    job = finished_job(model, release, methods=list(scores))
    job.repro_card["reference_judge"] = {"pretrained": judge, "revision": None}
    job.save(update_fields=["repro_card"])
    cells: dict[tuple[str, str, str], tuple[float, float, float]] = {}
    for method, value in scores.items():
        cells |= uniform_cells(value, 0.02, methods=[method])
    set_scores(job, cells)


@pytest.fixture
def models(release):
    open_a = make_model("org/open-a")
    open_b = make_model("org/open-b")
    served = LanguageModel.objects.create(
        name="served-chat", endpoint_url="http://models.example/v1", revision="c" * 40
    )
    judged(open_a, release, {"mc": 0.9, "aj": 0.9, "aj_ref": 0.4})
    judged(open_b, release, {"mc": 0.5, "aj": 0.5, "aj_ref": 0.6})
    # A chat model gives no log-likelihoods: its free answers are judged, nothing else.
    judged(served, release, {"aj_ref": 0.8})
    return open_a, open_b, served


def test_it_ranks_open_and_served_models_together_by_aj_ref(client, release, models, settings):
    settings.EVAL_REFERENCE_JUDGE = JUDGE
    board = build_board(BoardQuery(release=release, method="aj_ref"))
    assert [(r.name, r.rank) for r in board.rows] == [
        ("served-chat", 1),
        ("org/open-b", 2),
        ("org/open-a", 3),
    ]
    assert board.total == 3 and board.judges == [SHOWN]
    html = client.get(URL, {"method": "aj_ref"}).content.decode()
    assert row_names(html) == ["served-chat", "org/open-b", "org/open-a"]
    assert "<strong>Judged track</strong>" in html
    assert f'<span class="mono">{SHOWN}</span>' in html
    assert 'id="judge-notice"' not in html
    api = client.get(
        reverse("api:benchmark-leaderboard-list", args=["navab"]), {"method": "aj_ref"}
    )
    assert (api.json()["track"], api.json()["judges"]) == ("judged", [SHOWN])
    assert [r["model"] for r in api.json()["results"]] == [
        "served-chat",
        "org/open-b",
        "org/open-a",
    ]
    export = client.get(reverse("board-export", args=["navab", "json"]), {"method": "aj_ref"})
    assert (export.json()["track"], export.json()["judges"]) == ("judged", [SHOWN])


def test_log_likelihood_boards_never_list_a_model_without_log_likelihoods(client, release, models):
    for method in ("mc", "aj"):
        board = build_board(BoardQuery(release=release, method=method))
        assert [r.name for r in board.rows] == ["org/open-a", "org/open-b"]
        assert board.total == 2 and board.judges == []
        html = client.get(URL, {"method": method}).content.decode()
        assert "served-chat" not in html
        assert "<strong>Log-likelihood track</strong>" in html


def test_a_changed_reference_judge_shows_both_judges(release, models):
    open_a, _, _ = models
    other = "/srv/judges/other-judge"
    judged(open_a, release, {"mc": 0.9, "aj": 0.9, "aj_ref": 0.7}, judge=other)
    board = build_board(BoardQuery(release=release, method="aj_ref"))
    assert board.judges == [
        SHOWN,
        "./other-judge",
    ]  # two jobs still judged by the first, one by the new
    assert next(r for r in board.rows if r.name == "org/open-a").primary.value == 0.7


def test_without_a_reference_judge_the_board_says_why(client, release, settings):
    settings.EVAL_REFERENCE_JUDGE = ""
    html = client.get(URL, {"method": "aj_ref"}).content.decode()
    assert 'id="judge-notice"' in html
    assert "No reference judge is configured on this site (EVAL_REFERENCE_JUDGE is unset)" in html
    methodology = client.get(reverse("methodology", args=["navab"])).content.decode()
    assert "No reference judge is configured" in methodology
    settings.EVAL_REFERENCE_JUDGE = JUDGE
    methodology = client.get(reverse("methodology", args=["navab"])).content.decode()
    assert f'The site\'s reference judge: <span class="mono">{SHOWN}</span>' in methodology
