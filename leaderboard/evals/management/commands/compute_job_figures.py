"""Compute the per-job figures pages read instead of per-item results (method agreement and
disparity) for finished jobs that have none: jobs published before those figures were stored.
Pages compute a missing job's on first read, which for hundreds of such jobs would be minutes on
one request (a NaVAB run's agreement is ~0.7 s); run this once after upgrading instead."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from tqdm import tqdm

from leaderboard.evals import agreement, disparity
from leaderboard.evals.models import EvaluationJob, JobAgreement, JobDisparity, JobStatus


class Command(BaseCommand):
    help = (
        "Store method agreement and disparity for finished jobs that have none (jobs published "
        "before they were stored), so that no page computes them on a visitor's request."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--release", help="only this release's jobs (its version)")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = EvaluationJob.objects.filter(status=JobStatus.FINISHED)
        if options["release"]:
            jobs = jobs.filter(release__version=options["release"])
        jobs = jobs.annotate(
            has_agreement=Exists(JobAgreement.objects.filter(job=OuterRef("pk"))),
            has_disparity=Exists(JobDisparity.objects.filter(job=OuterRef("pk"))),
        ).filter(Q(has_agreement=False) | Q(has_disparity=False))
        missing = list(jobs.select_related("release__benchmark").order_by("pk"))
        if not missing:
            self.stdout.write("Every finished job has its agreement and disparity stored.")
            return
        failed = []
        for job in tqdm(missing, desc="jobs", file=sys.stderr, disable=None):
            try:
                with transaction.atomic():
                    if not job.has_agreement:
                        agreement.compute(job)
                    if not job.has_disparity:
                        disparity.compute(job)
            except Exception as error:  # one job's bad results must not stop the others
                failed.append(f"job {job.pk}: {type(error).__name__}: {error}")
        done = len(missing) - len(failed)
        self.stdout.write(f"Computed the figures of {done} of {len(missing)} jobs.")
        for line in failed[:20]:
            self.stderr.write(line)
