"""A job's page: what an alignment job aimed at, and the attempts of this job alone."""

from __future__ import annotations

import re

from django.urls import reverse

from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, JobKind, JobStatus

ALIGNMENT = {"target": {"nation": "us"}, "narrow": {"mode": ["quoted", "official"]}, "seed": 3}


def _finish(job: EvaluationJob) -> None:
    EvaluationJob.objects.filter(pk=job.pk).update(status=JobStatus.FINISHED)


def _attempt_links(client, job: EvaluationJob) -> list[str]:
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    listed = re.search(r'<ul id="job-attempts">(.*?)</ul>', page, re.S)
    assert listed is not None
    return re.findall(r'href="(/[^"]+)"', listed.group(1))


def test_it_says_what_an_alignment_job_aims_at(client, model, release):
    job = lifecycle.create_job(model, release, kind=JobKind.ALIGN, alignment=ALIGNMENT)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "DPO + LoRA toward United States (Quoted statements, Official positions)" in page
    assert "toward ()" not in page


def test_it_says_what_an_alignment_stored_in_the_old_shape_aimed_at(client, model, release):
    job = lifecycle.create_job(
        model, release, kind=JobKind.ALIGN, alignment={"nation": "cn", "modes": ["quoted"]}
    )
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "DPO + LoRA toward China (Quoted statements)" in page


def test_it_lists_the_attempts_of_this_job_only(client, model, release):
    first = lifecycle.create_job(model, release)
    _finish(first)
    second = lifecycle.rerun(first, requested_by=None)
    _finish(second)
    align = lifecycle.create_job(model, release, kind=JobKind.ALIGN, alignment=ALIGNMENT)
    _finish(align)
    align_again = lifecycle.rerun(align, requested_by=None)
    _finish(align_again)
    # The held-out baseline an alignment queues: an evaluation, but not a re-run of `first`.
    baseline = lifecycle.create_job(model, release, exclude_uids=["a", "b"])

    evaluations = [second.get_absolute_url(), first.get_absolute_url()]
    assert _attempt_links(client, first) == evaluations
    assert _attempt_links(client, second) == evaluations
    alignments = [align_again.get_absolute_url(), align.get_absolute_url()]
    assert _attempt_links(client, align) == alignments
    assert _attempt_links(client, baseline) == [baseline.get_absolute_url()]
