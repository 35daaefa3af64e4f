"""Import a dataset release of any registered benchmark, as its declaration reads it."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from evaluation.benchmarks import benchmark_slugs
from evaluation.hub_release import HubDownloadFailed, HubRelease, download_release
from leaderboard.catalog.importer import ImportFailed, import_release


class Command(BaseCommand):
    help = (
        "Import PATH as a dataset release of --benchmark SLUG: whatever that benchmark reads "
        "(its published layout, or a release directory this site exported). Nothing is "
        "written unless every record is valid; importing the same content again changes "
        "nothing."
    )
    #: set by a benchmark's alias command (`import_navab`); otherwise --benchmark is required
    benchmark: str | None = None
    # The system checks import every URL and view (plotly, pyarrow, the API): most of a no-op
    # re-import's time and some 70 MB of its peak memory, for nothing an import uses. `manage.py
    # check` and every web process run them.
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version names the release; it replaces Django's --version (the Django version).
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "path", type=Path, nargs="?", help="The published files (or use --from-hub)."
        )
        parser.add_argument(
            "--from-hub",
            metavar="ORG/NAME",
            help="Download the dataset repository ORG/NAME from the Hugging Face hub (into "
            "MEDIA_ROOT/hub/) and import it; the card records the commit.",
        )
        parser.add_argument(
            "--revision",
            help="With --from-hub: the commit to import (a branch or tag is resolved to its "
            "commit, and both are recorded).",
        )
        parser.add_argument(
            "--hub-endpoint",
            help="With --from-hub: the hub's address (default: HF_ENDPOINT, else huggingface.co).",
        )
        if self.benchmark is None:
            parser.add_argument(
                "--benchmark", required=True, choices=benchmark_slugs(), help="Benchmark slug."
            )
        parser.add_argument(
            "--version",
            dest="release_version",
            help="Release version slug (default: the manifest's version, else the folder name).",
        )
        parser.add_argument("--title", default="", help="Release title.")
        parser.add_argument(
            "--licence",
            default="",
            help="The data's licence (default: the benchmark's; required where it states none).",
        )
        parser.add_argument("--publish", action="store_true", help="Publish after importing.")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Mark the release as demo data, not the benchmark's.",
        )
        parser.add_argument(
            "--keep-overlapping-splits",
            action="store_true",
            help="Import two split files that mostly hold the same items anyway (the card "
            "says so); without this or --drop-split such an import is refused.",
        )
        parser.add_argument(
            "--drop-split",
            action="append",
            default=[],
            metavar="SPLIT",
            help="Leave out this split (NaVAB NATION/MODE, e.g. cn/official), e.g. one that "
            "repeats another; repeatable. The card names it.",
        )
        parser.add_argument(
            "--skip-exports",
            action="store_true",
            help="Do not build the whole-release JSONL/CSV/Parquet files now (built on first download).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path, hub = self._source(options)
        began, cpu = time.perf_counter(), time.process_time()
        try:
            report = import_release(
                path,
                benchmark=self.benchmark or options["benchmark"],
                version=options["release_version"],
                title=options["title"],
                licence=options["licence"],
                is_demo=options["demo"],
                publish=options["publish"],
                show_progress=options["verbosity"] >= 1,
                keep_overlapping_splits=options["keep_overlapping_splits"],
                drop_splits=options["drop_split"],
            )
        except ImportFailed as exc:
            raise CommandError(exc.describe()) from exc
        imported, cpu = time.perf_counter() - began, time.process_time() - cpu
        if hub is not None:
            report.release.record_origin(hub.origin())
            self.stdout.write(f"From {hub.repo_id} at commit {hub.commit} ({hub.url})")
        for notice in report.notices:
            self.stdout.write(self.style.WARNING(f"Notice: {notice}"))
        for line in report.summary():
            self.stdout.write(line)
        # The CPU time of this process says what the import costs here on a busy machine (the
        # database's share is the rest).
        timing = f"Took {imported:.1f} s to import ({cpu:.1f} s CPU in this process)"
        if not options["skip_exports"]:
            # Imported here, after the import: pyarrow adds some 70 MB to the process, which
            # the import's peak memory need not carry.
            from leaderboard.catalog.exports import release_files

            _give_back_freed_memory()

            began = time.perf_counter()
            for fmt, export in release_files(report.release).items():
                self.stdout.write(f"  items.{fmt}: {export.bytes} bytes, sha256 {export.sha256}")
            timing += f", {time.perf_counter() - began:.1f} s for the download files"
        self.stdout.write(f"{timing}.")
        self.stdout.write(self.style.SUCCESS(f"Done: release {report.version} {report.outcome}."))

    def _source(self, options: dict[str, Any]) -> tuple[Path, HubRelease | None]:
        """The folder to import: PATH, or what --from-hub downloads."""
        repo_id, path = options["from_hub"], options["path"]
        if bool(repo_id) == (path is not None):
            raise CommandError("Give either PATH or --from-hub ORG/NAME (with --revision).")
        if not repo_id:
            if options["revision"] or options["hub_endpoint"]:
                raise CommandError("--revision and --hub-endpoint go with --from-hub.")
            return Path(path), None
        if not options["revision"]:
            raise CommandError("--from-hub needs --revision: the commit the card will record.")
        try:
            hub = download_release(
                repo_id,
                options["revision"],
                Path(settings.MEDIA_ROOT) / "hub",
                endpoint=options["hub_endpoint"],
                progress=options["verbosity"] >= 1,
            )
        except HubDownloadFailed as exc:
            raise CommandError(f"Could not download {repo_id}: {exc}") from exc
        self.stdout.write(f"Downloaded {len(hub.files)} files of {repo_id} at {hub.commit}.")
        # The folder is named for the commit; a readable default names the repository too.
        options["release_version"] = options["release_version"] or slugify(
            f"{repo_id.split('/')[1]}-{hub.commit[:8]}"
        )
        return hub.path, hub


def _give_back_freed_memory() -> None:
    """Hand the heap the import's records left free back to the system before the download
    files are built: glibc keeps it otherwise, and the process's peak adds both up."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
