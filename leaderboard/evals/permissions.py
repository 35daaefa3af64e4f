from typing import Any

from leaderboard.evals.models import EvaluationJob, LanguageModel


def can_manage_model(user: Any, model: LanguageModel) -> bool:
    """Owners of the model and staff may align it, and cancel and re-run its jobs."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or (model.submitter_id and model.submitter_id == user.pk))


def can_manage(user: Any, job: EvaluationJob) -> bool:
    return can_manage_model(user, job.model)
