"""Compute the per-job figures pages read instead of per-item results, for jobs published
before those figures were stored: method agreement and disparity for finished jobs that have
none, and each published release's default boards' rank replicates. Pages compute what is
missing on first read, which for hundreds of such jobs would be minutes on one request (a NaVAB
run's agreement is ~0.7 s, a thousand NaVAB jobs' replicates ~10 s); run this once after
upgrading instead."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from leaderboard.boards.queries import BoardQuery, build_board
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import agreement, disparity
from leaderboard.evals.models import EvaluationJob, JobAgreement, JobDisparity, JobStatus
from leaderboard.evals.slices import declaration


class Command(BaseCommand):
    help = (
        "Store method agreement and disparity for finished jobs that have none (jobs published "
        "before they were stored), and the rank replicates of each published release's default "
        "boards, so that no page computes them on a visitor's request."
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
        else:
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
        self._draw_rank_replicates(options["release"])

    def _draw_rank_replicates(self, version: str | None) -> None:
        """Each published release's default board of every method built once: it draws and
        stores every ranked job's replicates that are missing."""
        releases = DatasetRelease.objects.published().select_related("benchmark")
        if version:
            releases = releases.filter(version=version)
        boards = 0
        for release in releases:
            for method in declaration(release).methods:
                build_board(BoardQuery(release=release, method=method.key))
                boards += 1
        self.stdout.write(f"Rank replicates drawn where missing on {boards} default boards.")
