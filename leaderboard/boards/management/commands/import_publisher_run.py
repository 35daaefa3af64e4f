"""Import a benchmark publisher's per-item judge records as the publisher's run of a model
(`leaderboard.evals.publisher_run`), set beside the publisher's reported figures for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evaluation.benchmarks.divervalue.publisher_run import REPORTED_NAMES, PublisherFileError
from leaderboard.boards.reported import link_site_model
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
        parser.add_argument(
            "--reported-as",
            default="",
            help="The model's name in the publisher's reported figures, to set the run beside "
            "them (default: the README's name of each released file's model; one path only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        release = (
            DatasetRelease.objects.select_related("benchmark")
            .filter(version=options["release"])
            .first()
        )
        if release is None:
            raise CommandError(f"no release {options['release']!r}")
        if options["reported_as"] and len(options["paths"]) > 1:
            raise CommandError("--reported-as names the model of one file: give one path")
        for path in options["paths"]:
            try:
                imported = import_publisher_run(path, release)
            except (PublisherFileError, PublisherRunError) as error:
                raise CommandError(str(error)) from error
            model = imported.job.model
            done = "imported as" if imported.created else "unchanged since"
            self.stdout.write(f"{path.name}: {done} job {imported.job.pk} of {model}")
            for line in imported.report.summary():
                self.stdout.write(f"  {line}")
            reported = options["reported_as"] or REPORTED_NAMES.get(model.name, "")
            if reported:
                linked = link_site_model(release.benchmark, reported, model)
                self.stdout.write(f"  beside {linked} reported result(s) of {reported}")
