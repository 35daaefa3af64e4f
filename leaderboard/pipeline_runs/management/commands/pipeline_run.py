"""`manage.py pipeline_run CONFIG [--sync]`: start a pipeline run the site tracks.

Without --sync the run's stages are queued for the workers (LLM stages on "gpu"); with --sync
they run in this process, for operators without workers. Either way the run appears in the
admin, where its topics are approved; resume it there (or run this command with --resume).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard.pipeline_runs import workflow
from leaderboard.pipeline_runs.models import PipelineRun, RunStatus
from pipeline.config import ConfigError

EXIT_AWAITING_APPROVAL = 3


class Command(BaseCommand):
    help = "Create a pipeline run from CONFIG and queue it (or run it here with --sync)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("config", nargs="?", help="The run's TOML or JSON config file.")
        parser.add_argument("--sync", action="store_true", help="Run the stages in this process.")
        parser.add_argument("--run-dir", default="", help="Use this run directory instead.")
        parser.add_argument("--user", default="", help="Username recorded as the run's creator.")
        parser.add_argument(
            "--resume", type=int, metavar="RUN_ID", help="Resume an existing run instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume"] is not None:
            try:
                run = PipelineRun.objects.get(pk=options["resume"])
            except PipelineRun.DoesNotExist as exc:
                raise CommandError(f"no pipeline run {options['resume']}") from exc
        elif options["config"]:
            run = self._create(options)
        else:
            raise CommandError("give a CONFIG file, or --resume RUN_ID")
        try:
            if options["sync"]:
                run = workflow.run_in_process(run)
            else:
                stages = workflow.start(run)
                self.stdout.write(f"{run}: queued {', '.join(stages)}")
                return
        except workflow.WorkflowError as exc:
            raise CommandError(str(exc)) from exc
        self._report(run)

    def _create(self, options: dict[str, Any]) -> PipelineRun:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
        try:
            run = workflow.create_run(
                config_path=options["config"], run_dir=options["run_dir"], created_by=user
            )
        except (ConfigError, OSError, workflow.WorkflowError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {run} in {run.run_dir}")
        return run

    def _report(self, run: PipelineRun) -> None:
        for row in run.stage_rows():
            counts = ", ".join(f"{k}={v}" for k, v in row["counts"].items()) or "-"
            line = f"{row['stage']:<10} {row['state']:<17} {counts}"
            if row["dropped"]:
                line += "  dropped: " + ", ".join(f"{k}={v}" for k, v in row["dropped"].items())
            self.stdout.write(line)
        if run.status == RunStatus.WAITING_APPROVAL:
            self.stdout.write(
                f"{run} waits for topic approvals: decide them in the admin, then "
                f"`manage.py pipeline_run --resume {run.pk} --sync`"
            )
            raise SystemExit(EXIT_AWAITING_APPROVAL)
        if run.status == RunStatus.FAILED:
            raise CommandError(run.error)
        self.stdout.write(f"{run}: {run.get_status_display()}; draft release {run.output_release}")
