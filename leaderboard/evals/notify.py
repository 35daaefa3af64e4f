"""E-mail to whoever asked for a job, once it has finished or failed for good."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from leaderboard.evals.models import EvaluationJob, JobStatus

log = logging.getLogger(__name__)


def notify_requester(job_id: int) -> bool:
    job = EvaluationJob.objects.select_related("model", "release", "requested_by").get(pk=job_id)
    user = job.requested_by
    if user is None or not user.email:
        return False
    what = "Alignment" if job.kind == "align" else "Evaluation"
    if job.status == JobStatus.FINISHED:
        subject = f"{what} of {job.model.display_name} finished"
        body = f"{what} of {job.model.display_name} on {job.release.version} has finished."
    else:
        subject = f"{what} of {job.model.display_name} failed"
        body = (
            f"{what} of {job.model.display_name} on {job.release.version} failed "
            f"({job.get_failure_kind_display().lower()}): {job.failure_reason}"
        )
    body += f"\n\n{settings.SITE_URL.rstrip('/')}{job.get_absolute_url()}\n"
    try:
        send_mail(subject, body, None, [user.email])
    except Exception as exc:  # no mail problem may touch the job's (already committed) result
        log.warning("could not e-mail %s about job %s: %s", user.email, job.pk, exc)
        return False
    return True
