"""Citable snapshots: staff freeze a board view; its dated page and JSON keep every row,
interval, rank range, the release fingerprint, harness versions and commands, whatever runs
come later."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from leaderboard.boards.cache import invalidate_boards
from leaderboard.boards.models import BoardSnapshot
from leaderboard.catalog.importer import release_fingerprint
from leaderboard.evals.models import LanguageModel
from tests.factories import evaluate, make_model, make_release

pytestmark = pytest.mark.django_db

FREEZE = reverse("snapshot-freeze", args=["navab"])


@pytest.fixture
def scored(db):
    release = make_release(per_cell=10, signal=False)
    for name, skill in (("org/one", 0.9), ("org/two", 0.5)):
        evaluate(make_model(name), release, skill=skill)
    return release


def freeze(staff_client, params: str = "") -> BoardSnapshot:
    response = staff_client.post(f"{FREEZE}?{params}", {"note": "For the paper, table 2."})
    assert response.status_code == 302
    snapshot = BoardSnapshot.objects.get()
    assert response["Location"] == snapshot.get_absolute_url()
    return snapshot


def test_staff_freeze_a_view_with_every_row_interval_fingerprint_and_command(staff_client, scored):
    snapshot = freeze(staff_client, "nation=us&mode=quoted&method=mc&q=one")  # search dropped
    data = staff_client.get(reverse("snapshot-json", args=["navab", snapshot.slug])).json()
    assert data["view"] == {"nation": "us", "mode": "quoted", "method": "mc"}
    assert data["release"]["fingerprint"] == release_fingerprint(scored)
    assert data["note"] == "For the paper, table 2."
    rows = {row["model"]: row for row in data["rows"]}
    assert set(rows) == {"org/one", "org/two"}
    one = rows["org/one"]
    assert one["rank"] == 1 and one["ci_low"] <= one["score"] <= one["ci_high"]
    assert one["rank_best"] == 1 and one["rank_worst"] in (1, 2)
    assert one["run"]["versions"]["lm_eval"] == "0.4.13"
    assert any("lm_eval" in command for command in one["run"]["lm_eval_commands"])
    assert one["release_sha256"]

    page = staff_client.get(snapshot.get_absolute_url()).content.decode()
    assert data["release"]["fingerprint"] in page and "lm_eval" in page
    assert 'data-model="org/two"' in page
    listing = staff_client.get(reverse("snapshot-list", args=["navab"])).content.decode()
    assert f'data-snapshot="{snapshot.slug}"' in listing
    other = staff_client.get(reverse("snapshot-list", args=["divervalue"])).content.decode()
    assert snapshot.slug not in other


def test_later_runs_never_change_a_snapshot(staff_client, client, scored):
    snapshot = freeze(staff_client)
    url = reverse("snapshot-json", args=["navab", snapshot.slug])
    before = client.get(url).content
    # A re-run that turns the board over, and a newcomer at the top.
    evaluate(make_model("org/newcomer"), scored, skill=1.0)
    evaluate(LanguageModel.objects.get(name="org/one"), scored, skill=0.1)
    invalidate_boards()
    live = client.get(reverse("board", args=["navab"])).content.decode()
    assert "org/newcomer" in live
    assert client.get(url).content == before
    assert "org/newcomer" not in client.get(snapshot.get_absolute_url()).content.decode()
    with pytest.raises(ValidationError, match="immutable"):
        snapshot.save()


def test_only_staff_freeze(client, other_client, scored):
    assert client.post(FREEZE).status_code in (302, 403)
    assert other_client.post(FREEZE).status_code == 403
    assert client.get(FREEZE).status_code == 405
    assert not BoardSnapshot.objects.exists()
    assert (
        client.get(reverse("snapshot-detail", args=["navab", "2026-01-01-nope"])).status_code == 404
    )
