"""Invalidate cached boards when what they show changes outside the runner.

The runner invalidates when a job's scores are stored (bulk inserts send no signals). These
cover edits from the admin or the shell: a model's name, size or type, a release published or
withdrawn, a job or its scores deleted. Job saves are not watched: heartbeats save every few
seconds and never change a board.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leaderboard.benchmark.models import DatasetRelease
from leaderboard.boards.cache import invalidate_boards
from leaderboard.evals.models import EvaluationJob, LanguageModel


@receiver(post_save, sender=LanguageModel)
@receiver(post_delete, sender=LanguageModel)
@receiver(post_save, sender=DatasetRelease)
@receiver(post_delete, sender=DatasetRelease)
@receiver(post_delete, sender=EvaluationJob)
def boards_changed(sender: type[Any], **kwargs: Any) -> None:
    transaction.on_commit(invalidate_boards)
