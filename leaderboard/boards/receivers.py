"""Invalidate cached boards when what they show changes.

A finished job's scores arrive by bulk insert, which sends no model signals: the evals app says
so with `job_finished` (it does not know boards exist). The model signals cover edits from the
admin or the shell: a model's name, size or type, a release published or withdrawn, a job or its
scores deleted, a publisher's reported result edited. Job saves are not watched: heartbeats save every few seconds and never change a
board.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leaderboard.boards import rank_replicates
from leaderboard.boards.cache import invalidate_boards
from leaderboard.boards.models import ReportedResult
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import AlignmentJob, EvaluationJob, LanguageModel
from leaderboard.evals.signals import job_finished


@receiver(post_save, sender=LanguageModel)
@receiver(post_delete, sender=LanguageModel)
@receiver(post_save, sender=DatasetRelease)
@receiver(post_delete, sender=DatasetRelease)
@receiver(post_delete, sender=EvaluationJob)
@receiver(post_delete, sender=AlignmentJob)  # a proxy's deletes are sent for the proxy only
@receiver(post_save, sender=ReportedResult)
@receiver(post_delete, sender=ReportedResult)
def boards_changed(sender: type[Any], **kwargs: Any) -> None:
    transaction.on_commit(invalidate_boards)


@receiver(job_finished, sender=EvaluationJob)
def job_results_published(sender: type[EvaluationJob], job: EvaluationJob, **kwargs: Any) -> None:
    # Sent after commit: the new scores are already visible to the connection that rebuilds.
    # The job's rank replicates are drawn here, on the worker that published it, so that the
    # next board shown reads them rather than drawing them.
    rank_replicates.publish(job)
    invalidate_boards()
