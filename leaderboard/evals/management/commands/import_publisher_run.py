"""Import a benchmark publisher's per-item judge records as the publisher's run of a model
(see `leaderboard.evals.publisher_run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evaluation.benchmarks.divervalue.publisher_run import PublisherFileError
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.publisher_run import PublisherRunError, import_publisher_run


class Command(BaseCommand):
    help = (
        "Import DiverValue-Bench's published poly-judge records "
        "(<model>_multi_value_judge_pairwise_polyjudge[_recomputed].json or .zip) as the "
        "publisher's run of each model: scored per slice by the site, labelled as run and "
        "judged by the publisher, never ranked. Prints what could not be read."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument(
            "--release",
            required=True,
            help="The version of the imported DiverValue-Bench release the records judge.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        release = (
            DatasetRelease.objects.select_related("benchmark")
            .filter(version=options["release"])
            .first()
        )
        if release is None:
            raise CommandError(f"no release {options['release']!r}")
        for path in options["paths"]:
            try:
                imported = import_publisher_run(path, release)
            except (PublisherFileError, PublisherRunError) as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"{path.name}: job {imported.job.pk} of {imported.job.model}")
            for line in imported.report.summary():
                self.stdout.write(f"  {line}")
