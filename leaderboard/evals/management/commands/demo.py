"""Load the demo: every benchmark's shipped demo release, a few tiny offline models and their
evaluation jobs on each.

Everything here is real: each release is imported by the same importer as a published one,
the models are built offline and saved like downloaded ones, and their jobs are queued on the
configured broker for the real worker (`manage.py serve_demo` starts one). Running it again
changes nothing that is already there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from evaluation.benchmarks import all_benchmarks
from evaluation.benchmarks.contract import BenchmarkDefinition
from leaderboard.catalog.exports import release_files
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import lifecycle
from leaderboard.evals.models import (
    ACTIVE_STATUSES,
    EvaluationJob,
    JobStatus,
    LanguageModel,
    ModelType,
    Precision,
)

# The demo data is written for this site (hand-written, labelled demo), under its licence.
DEMO_LICENCE = "MIT"


def demo_version(benchmark: BenchmarkDefinition) -> str:
    # NaVAB's demo kept its first version name, which links and tests use.
    return "demo-1" if benchmark.slug == "navab" else f"{benchmark.slug}-demo-1"


@dataclass(frozen=True)
class DemoModel:
    name: str
    seed: int
    always_next: str | None
    model_type: str
    note: str


DEMO_MODELS = (
    DemoModel("demo/tiny-gpt2-seed0", 0, None, ModelType.BASE, "random weights, seed 0"),
    DemoModel("demo/tiny-gpt2-seed1", 1, None, ModelType.BASE, "random weights, seed 1"),
    DemoModel(
        "demo/tiny-gpt2-always-a", 0, " A", ModelType.BASE, "always answers A: shows letter bias"
    ),
)


def demo_judges() -> str:
    """DiverValue-Bench's PAA panel for the demo (`EVAL_PAA_JUDGES`): the two random demo
    models judge (the always-A one could only ever write "A"). Their random weights rarely
    write the judges' JSON, so their outputs are counted unparsable and shown as such, which
    is what the demo demonstrates; a short budget keeps the demo to minutes."""
    return json.dumps(
        [
            {
                "name": spec.name,
                "model": str(model_directory(spec)),
                "dtype": Precision.FLOAT32,
                "max_gen_toks": 16,
            }
            for spec in DEMO_MODELS
            if spec.always_next is None
        ]
    )


def demo_worker_env() -> dict[str, str]:
    """What `serve_demo`'s worker runs with unless the environment says otherwise."""
    return {
        # The tiny random models never emit an end-of-text token, so every free answer would
        # run to the full budget; a short one keeps the demo to minutes.
        "EVAL_MAX_GEN_TOKENS": "24",
        # The demo models as DiverValue-Bench's PAA judge panel, so PAA shows up.
        "EVAL_PAA_JUDGES": demo_judges(),
        # Each benchmark's default board frozen as a citable snapshot every minute while the
        # jobs finish (an unchanged board is not frozen again), so /<benchmark>/snapshots/
        # lists the demo's boards.
        "BOARD_SNAPSHOT_SCHEDULE": "60",
    }


def model_directory(spec: DemoModel) -> Path:
    return Path(settings.LOCAL_MODELS_DIR) / spec.name.replace("/", "--")


class Command(BaseCommand):
    help = "Load the demo release and queue evaluations of a few tiny offline models."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-models", action="store_true", help="Load the demo release only.")

    def handle(self, *args: Any, **options: Any) -> None:
        with_demo = [b for b in all_benchmarks() if b.demo_dir.is_dir()]
        releases = [self._load_release(b) for b in with_demo]
        for benchmark in all_benchmarks():
            # The publisher's own figures, where the benchmark ships them (by name: boards,
            # which owns them, depends on this app, not the reverse).
            reported = benchmark.demo_dir.parent / "reported.json"
            if reported.is_file():
                call_command("import_reported", str(reported), stdout=self.stdout)
        for benchmark, release in zip(with_demo, releases, strict=True):
            # Demo files in the publisher's per-item judge format (invented, labelled demo),
            # imported as the publisher's runs of their invented models.
            runs = sorted((benchmark.demo_dir.parent / "publisher_run_demo").glob("*.json"))
            if runs:
                call_command(
                    "import_publisher_run",
                    *map(str, runs),
                    release=release.version,
                    stdout=self.stdout,
                )
        if options["no_models"]:
            return
        for spec in DEMO_MODELS:
            model = self._register(spec)
            for release in releases:
                self._queue(model, release)
        self.stdout.write(
            "Demo jobs are queued; `manage.py serve_demo` runs them with a real worker. "
            "Watch them at /queue/."
        )

    def _load_release(self, benchmark: BenchmarkDefinition) -> DatasetRelease:
        version = demo_version(benchmark)
        report = import_release(
            benchmark.demo_dir,
            benchmark=benchmark.slug,
            version=version,
            licence=benchmark.licence or DEMO_LICENCE,
            title=f"{benchmark.name} demo release (hand-written sample, not the {benchmark.name} data)",
            source=DatasetRelease.Source.DEMO,
            is_demo=True,
            publish=True,
        )
        self.stdout.write("\n".join(report.summary()))
        release = DatasetRelease.objects.get(version=version)
        # Built now, so the release page shows every file's checksum from the first visit.
        release_files(release)
        return release

    def _register(self, spec: DemoModel) -> LanguageModel:
        from evaluation.model_check import local_fingerprint
        from evaluation.tiny_models import build_tiny_model

        directory = model_directory(spec)
        if not (directory / "config.json").exists():
            # DiverValue-Bench's judge prompts run to ~1,600 tokens: a 512-position model
            # would leave every PAA item out as longer than its context.
            build_tiny_model(
                directory, seed=spec.seed, always_next=spec.always_next, n_positions=2048
            )
            self.stdout.write(f"Built {spec.name} in {directory}")
        model, created = LanguageModel.objects.get_or_create(
            name=spec.name,
            revision=local_fingerprint(directory),
            precision=Precision.FLOAT32,
            defaults={
                "model_type": spec.model_type,
                "params_billions": _params_billions(directory),
                "family": "tiny-gpt2",
                "weights_path": str(directory),
                "is_demo": True,
            },
        )
        if created:
            self.stdout.write(f"Registered {model.display_name} ({spec.note})")
        return model

    def _queue(self, model: LanguageModel, release: DatasetRelease) -> None:
        with transaction.atomic():
            jobs = EvaluationJob.objects.filter(model=model, release=release)
            if jobs.filter(status__in=[*ACTIVE_STATUSES, JobStatus.FINISHED]).exists():
                return
            lifecycle.create_job(model, release, reason="Demo evaluation")
        self.stdout.write(f"Queued evaluation of {model.display_name} on {release.version}")


def _params_billions(directory: Path) -> float | None:
    from evaluation.model_check import count_parameters

    params = count_parameters(directory, None)
    return params / 1e9 if params else None
