"""Publishing a release queues every registered model (aligned ones aside) for evaluation."""

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from leaderboard.catalog.models import DatasetRelease
from leaderboard.catalog.signals import release_published
from leaderboard.evals import lifecycle
from leaderboard.evals.models import LanguageModel, ModelType


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
