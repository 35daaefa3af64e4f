from typing import Any

from leaderboard.evals.models import EvaluationJob


def can_manage(user: Any, job: EvaluationJob) -> bool:
    """Owners of the model and staff may cancel and re-run its jobs."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or (job.model.submitter_id and job.model.submitter_id == user.pk))
