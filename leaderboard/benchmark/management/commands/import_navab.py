"""Import the NaVAB release (its published folder layout) or a triples.jsonl export."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard.benchmark.exports import release_files
from leaderboard.benchmark.importer import ImportFailed, import_release


class Command(BaseCommand):
    help = (
        "Import PATH as a dataset release: a NaVAB folder (US/, UK/, China/, german/, french/ "
        "holding human_statement_result.json and official_statement_result.json), a release "
        "directory holding triples.jsonl, or a triples.jsonl file. Nothing is written unless "
        "every record is valid; importing the same content again changes nothing."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version names the release; it replaces Django's --version (the Django version).
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--version",
            dest="release_version",
            help="Release version slug (default: the manifest's version, else the folder name).",
        )
        parser.add_argument("--title", default="", help="Release title.")
        parser.add_argument("--publish", action="store_true", help="Publish after importing.")
        parser.add_argument(
            "--demo", action="store_true", help="Mark the release as demo data, not NaVAB."
        )
        parser.add_argument(
            "--skip-exports",
            action="store_true",
            help="Do not build the whole-release JSONL/CSV/Parquet files now (built on first download).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_release(
                options["path"],
                version=options["release_version"],
                title=options["title"],
                is_demo=options["demo"],
                publish=options["publish"],
                show_progress=options["verbosity"] >= 1,
            )
        except ImportFailed as exc:
            raise CommandError(exc.describe()) from exc
        for notice in report.notices:
            self.stdout.write(self.style.WARNING(f"Notice: {notice}"))
        for line in report.summary():
            self.stdout.write(line)
        if not options["skip_exports"]:
            for fmt, export in release_files(report.release).items():
                self.stdout.write(f"  triples.{fmt}: {export.bytes} bytes, sha256 {export.sha256}")
        self.stdout.write(self.style.SUCCESS(f"Done: release {report.version} {report.outcome}."))
