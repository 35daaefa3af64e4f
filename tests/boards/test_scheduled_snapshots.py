"""Snapshots on a schedule (BOARD_SNAPSHOT_SCHEDULE): each benchmark's default board frozen by
the CPU worker's beat, and frozen again only once it shows something else."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from celery.schedules import crontab

from leaderboard.boards import snapshots
from leaderboard.boards.cache import invalidate_boards
from leaderboard.boards.models import BoardSnapshot
from leaderboard.env import envschedule
from tests.factories import evaluate, make_model, make_release
from tests.worker import running_worker


@pytest.mark.django_db
def test_it_freezes_each_default_board_once_until_it_changes() -> None:
    release = make_release(per_cell=10, signal=False)
    assert snapshots.freeze_default_boards() == []  # no ranked model: nothing to cite
    evaluate(make_model("org/one"), release, skill=0.9)
    evaluate(make_model("org/two"), release, skill=0.5)
    first = snapshots.freeze_default_boards()
    assert [s.release for s in first] == [release]  # DiverValue-Bench has no release here
    assert first[0].note == snapshots.SCHEDULED_NOTE and first[0].created_by is None
    assert first[0].payload["view"]["method"] == "mc"
    assert snapshots.freeze_default_boards() == []  # the same board: not frozen again
    evaluate(make_model("org/three"), release, skill=0.7)
    invalidate_boards()
    second = snapshots.freeze_default_boards()
    assert len(second) == 1 and second[0].slug != first[0].slug
    assert {r["model"] for r in second[0].payload["rows"]} == {"org/one", "org/two", "org/three"}
    assert BoardSnapshot.objects.count() == 2


def test_the_schedule_reads_seconds_or_a_crontab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOARD_SNAPSHOT_SCHEDULE", raising=False)
    assert envschedule("BOARD_SNAPSHOT_SCHEDULE") is None
    monkeypatch.setenv("BOARD_SNAPSHOT_SCHEDULE", "86400")
    assert envschedule("BOARD_SNAPSHOT_SCHEDULE") == 86400.0
    monkeypatch.setenv("BOARD_SNAPSHOT_SCHEDULE", "30 4 * * 1")
    found = envschedule("BOARD_SNAPSHOT_SCHEDULE")
    assert isinstance(found, crontab)
    assert found.minute == {30} and found.hour == {4} and found.day_of_week == {1}
    for bad in ("-5", "daily", "0 3 * *", "99 3 * * *"):
        monkeypatch.setenv("BOARD_SNAPSHOT_SCHEDULE", bad)
        with pytest.raises(ValueError, match="BOARD_SNAPSHOT_SCHEDULE"):
            envschedule("BOARD_SNAPSHOT_SCHEDULE")


DONE = re.compile(r"freeze_default_boards\[[^\]]+\] succeeded")


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return bool(condition())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_beat_freezes_the_board_and_skips_it_unchanged(
    worker_settings: object, tmp_path: Path
) -> None:
    release = make_release(per_cell=10, signal=False)
    evaluate(make_model("org/one"), release, skill=0.9)
    evaluate(make_model("org/two"), release, skill=0.5)
    log = tmp_path / "worker.log"
    with running_worker(log, {"BOARD_SNAPSHOT_SCHEDULE": "1"}, queues=("default",), beat=True):
        assert wait_for(lambda: BoardSnapshot.objects.exists(), 60), log.read_text()[-3000:]
        # Beat keeps sending the task every second; an unchanged board is never frozen again.
        assert wait_for(lambda: len(DONE.findall(log.read_text())) >= 4, 60), log.read_text()[
            -3000:
        ]
        assert BoardSnapshot.objects.count() == 1
        evaluate(make_model("org/three"), release, skill=0.7)
        invalidate_boards()
        assert wait_for(lambda: BoardSnapshot.objects.count() == 2, 60), log.read_text()[-3000:]
    newest = BoardSnapshot.objects.first()
    assert newest is not None and newest.note == snapshots.SCHEDULED_NOTE
    assert "org/three" in {r["model"] for r in newest.payload["rows"]}
