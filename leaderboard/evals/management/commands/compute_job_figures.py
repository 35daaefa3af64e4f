"""Compute the per-job figures pages read instead of per-item results (method agreement and
disparity) for finished jobs that have none: jobs published before those figures were stored.
Pages compute a missing job's on first read, which for hundreds of such jobs would be minutes on
one request (a NaVAB run's agreement is ~0.7 s); run this once after upgrading instead."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
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
        finished = list(jobs.order_by("pk").values_list("pk", flat=True))
        agreed = set(JobAgreement.objects.values_list("job_id", flat=True).distinct())
        measured = set(JobDisparity.objects.values_list("job_id", flat=True).distinct())
        missing = [
            (pk, pk in agreed, pk in measured)
            for pk in finished
            if pk not in agreed or pk not in measured
        ]
        if not missing:
            self.stdout.write("Every finished job has its agreement and disparity stored.")
            return
        failed = []
        for pk, has_agreement, has_disparity in tqdm(
            missing, desc="jobs", file=sys.stderr, disable=None
        ):
            job = EvaluationJob.objects.select_related("release__benchmark").get(pk=pk)
            try:
                with transaction.atomic():
                    if not has_agreement:
                        agreement.compute(job)
                    if not has_disparity:
                        disparity.compute(job)
            except Exception as error:  # one job's bad results must not stop the others
                failed.append(f"job {pk}: {type(error).__name__}: {error}")
        done = len(missing) - len(failed)
        self.stdout.write(f"Computed the figures of {done} of {len(missing)} jobs.")
        for line in failed[:20]:
            self.stderr.write(line)
