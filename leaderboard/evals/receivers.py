"""Publishing a release queues every registered model (aligned ones aside) for evaluation."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.signals import release_published
from leaderboard.evals import lifecycle, sample_details
from leaderboard.evals.models import AlignmentJob, EvaluationJob, LanguageModel, ModelType


@receiver(release_published, sender=DatasetRelease)
def queue_reevaluation(
    sender: type[DatasetRelease], release: DatasetRelease, **kwargs: Any
) -> None:
    def queue_all() -> None:
        # Aligned models are evaluated by their alignment job, on items they did not train on.
        for model in LanguageModel.objects.exclude(model_type=ModelType.ALIGNED):
            try:
                lifecycle.create_job(
                    model, release, reason=f"Re-evaluation: release {release} published"
                )
            except lifecycle.JobConflict:
                continue

    transaction.on_commit(queue_all)


# Named senders (the job and its proxy), never every model: a model with a post_delete
# receiver cannot be deleted in one statement, so the ORM would read every item and slice
# row of a replaced release into memory first, only to send signals nobody needs.
@receiver(post_delete, sender=EvaluationJob)
@receiver(post_delete, sender=AlignmentJob)
def remove_sample_details(
    sender: type[EvaluationJob], instance: EvaluationJob, **kwargs: Any
) -> None:
    """A deleted job's per-example details go with its rows."""
    job_id = instance.pk  # the instance's pk is cleared once the delete is done
    transaction.on_commit(lambda: sample_details.remove_job(job_id))
