"""Board tasks run by the CPU worker's beat."""

from __future__ import annotations

from celery import shared_task

from leaderboard.boards import snapshots


@shared_task(name="leaderboard.boards.tasks.freeze_default_boards")
def freeze_default_boards() -> list[str]:
    """BOARD_SNAPSHOT_SCHEDULE's task: the slugs of the snapshots it froze (none where no
    board changed)."""
    return [snapshot.slug for snapshot in snapshots.freeze_default_boards()]
