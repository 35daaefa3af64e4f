"""A web process trusts the board version it read for BOARD_VERSION_MEMO_MS: a warm request
then makes no query; its own changes show at once, another process's within that time."""

from __future__ import annotations

import time

import pytest
from django.db.models import F

from leaderboard.boards.models import BoardVersion
from tests.factories import ranked_model

pytestmark = pytest.mark.django_db
API = "/api/benchmarks/navab/leaderboard/"


def board_models(client) -> list[str]:
    return [r["model"] for r in client.get(API).json()["results"]]


def test_a_warm_request_makes_no_query_within_the_memo_time(
    client, release, settings, django_assert_num_queries
):
    settings.BOARD_VERSION_MEMO_MS = 60_000
    ranked_model("org/first", release, 0.5)
    assert board_models(client) == ["org/first"]
    with django_assert_num_queries(0):
        assert board_models(client) == ["org/first"]
    assert client.get("/navab/board/").status_code == 200  # built
    with django_assert_num_queries(0):
        assert client.get("/navab/board/").status_code == 200


def test_a_change_made_in_this_process_shows_at_once(
    client, release, settings, django_capture_on_commit_callbacks
):
    settings.BOARD_VERSION_MEMO_MS = 60_000
    ranked_model("org/first", release, 0.5)
    assert board_models(client) == ["org/first"]
    with django_capture_on_commit_callbacks(execute=True):
        ranked_model("org/second", release, 0.9)
    assert board_models(client) == ["org/second", "org/first"]


def test_another_processes_change_shows_once_the_memo_time_is_over(client, release, settings):
    settings.BOARD_VERSION_MEMO_MS = 300
    ranked_model("org/first", release, 0.5)
    assert board_models(client) == ["org/first"]
    ranked_model("org/second", release, 0.9)
    BoardVersion.objects.update(version=F("version") + 1)  # what a worker's bump does
    assert board_models(client) == ["org/first"]  # the version read 0.3 s ago still holds
    time.sleep(0.35)
    assert board_models(client) == ["org/second", "org/first"]
