"""Import a file of results a benchmark's publisher reported (see `leaderboard.boards.reported`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from leaderboard.boards.reported import ReportedFileError, import_reported


class Command(BaseCommand):
    help = (
        "Import results a benchmark's publisher reported (JSON: benchmark, source, results); "
        "shown beside the boards, never ranked. Re-importing updates the rows it names."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created, updated = import_reported(options["path"])
        except ReportedFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Reported results: {created} added, {updated} updated.")
