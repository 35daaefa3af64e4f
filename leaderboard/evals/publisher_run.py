"""The publisher's own run of a model, imported as a finished job of the site (its per-item
records read by `evaluation.benchmarks.divervalue.publisher_run`), so every page that reads a
job (scores per slice with the site's intervals, the map, the disparity, per-item results)
reads it too. Its model is `publisher_run`: labelled wherever its name is shown and never
ranked (`JobQuerySet.rankable`): another panel judged it, on items the site's runs do not
score (all splits), so it is not the site's measurement.

Importing a changed file writes a new attempt (the model page shows the latest); the same
file again writes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.definition import DiverValueBench
from evaluation.benchmarks.divervalue.harness import score_slices
from evaluation.benchmarks.divervalue.methods import PAA, paa_samples, undecided
from evaluation.benchmarks.divervalue.paa_harness import PaaRun
from evaluation.benchmarks.divervalue.publisher_run import (
    RUN_BY,
    PublisherRun,
    RunReport,
    read_publisher_run,
)
from evaluation.benchmarks.divervalue.release import load_items
from evaluation.benchmarks.divervalue.results import score_rows
from evaluation.release import sha256_file
from evaluation.results import EvaluationResult, ReproCard
from leaderboard.catalog.exports import release_directory
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel
from leaderboard.evals.runner import store_results

#: the seed of the site's intervals on an imported run (the card records it)
SEED = 0


class PublisherRunError(ValueError):
    """The run cannot be imported (nothing was written)."""


@dataclass(frozen=True)
class Imported:
    job: EvaluationJob
    report: RunReport
    #: False where the latest import of the model on the release read the same file
    created: bool = True


def _result(
    run: PublisherRun, benchmark: DiverValueBench, path: Path, digest: str
) -> EvaluationResult:
    paa_run = PaaRun(items=run.items, card=run.card(path.name))
    no_verdicts = undecided(paa_run.card)
    scores = (
        []
        if no_verdicts
        else score_rows(score_slices(run.items, benchmark, SEED, method=PAA), run.items)
    )
    dimensions = [d.key for d in benchmark.slices]
    samples = paa_samples(paa_run)
    for sample in samples:
        # Item pages say whose run it is, and show no prompt of the site's as if it was used.
        sample.details["run_by"] = RUN_BY
    return EvaluationResult(
        scores=scores,
        samples=samples,
        answers={item.uid: item.answer for item in run.items},
        card=ReproCard(
            model={"kind": "publisher", "pretrained": run.model, "run_by": "publisher"},
            judge={PAA: paa_run.card},
            release={"source": path.name, "sha256": digest},
            methods=[PAA],
            slices={k: sorted({i.slices[k] for i in run.items}) for k in dimensions},
            dtype="",
            batch_size="",
            seed=SEED,
            device="",
            device_name="",
            max_gen_toks=0,
            limit=None,
            versions={},
            command="",
            lm_eval_commands=[],
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            duration_s=0.0,
            not_run={PAA: no_verdicts} if no_verdicts else {},
        ),
    )


def import_publisher_run(path: Path, release: DatasetRelease) -> Imported:
    """Read PATH (a publisher judge file, .json or .zip) against RELEASE's items and store it
    as a finished PAA job of the publisher's model."""
    benchmark = get_benchmark(release.benchmark.slug)
    if not isinstance(benchmark, DiverValueBench):
        raise PublisherRunError(
            f"{release} is a {benchmark.name} release: the publisher's judge records are "
            "DiverValue-Bench's"
        )
    items = load_items(release_directory(release))
    run = read_publisher_run(path, items, [d.key for d in benchmark.slices])
    if not run.items:
        raise PublisherRunError(
            f"{path.name}: no record matched an item of {release} ("
            + "; ".join(run.report.summary())
            + ")"
        )
    digest = sha256_file(path)
    same = (
        EvaluationJob.objects.filter(
            model__name=run.model,
            model__publisher_run=True,
            release=release,
            status=JobStatus.FINISHED,
        )
        .newest_first()
        .first()
    )
    if same is not None and (same.repro_card.get("release") or {}).get("sha256") == digest:
        return Imported(same, run.report, created=False)
    result = _result(run, benchmark, path, digest)
    token = f"publisher-import-{secrets.token_hex(8)}"
    clash = LanguageModel.objects.filter(
        name=run.model, revision="", precision="auto", provider=None, publisher_run=False
    )
    if clash.exists():
        raise PublisherRunError(
            f"the site already has its own model named {run.model!r} (no revision): the "
            "publisher's run would share its name"
        )
    with transaction.atomic():
        model, _ = LanguageModel.objects.get_or_create(
            name=run.model,
            revision="",
            precision="auto",
            provider=None,
            publisher_run=True,
            defaults={"family": "publisher's run", "is_demo": release.is_demo},
        )
        last = EvaluationJob.objects.filter(model=model, release=release).order_by("-attempt")
        job = EvaluationJob.objects.create(
            model=model,
            release=release,
            attempt=(last.values_list("attempt", flat=True).first() or 0) + 1,
            methods=[PAA],
            status=JobStatus.RUNNING,
            celery_task_id=token,
            started_at=timezone.now(),
        )
        lifecycle.record_event(job, f"Imported from the publisher's records {path.name}")
        # The one path every run's results take (files kept, scores, per-item results,
        # disparity, the card), so nothing about an imported run is stored differently.
        if not store_results(job, token, result, Path(settings.EVAL_RESULTS_DIR)):
            raise PublisherRunError("the imported job was taken over while it was stored")
    job.refresh_from_db()
    return Imported(job, run.report)


def card_report(job: EvaluationJob) -> dict[str, Any] | None:
    """The import's report on a publisher's run's card (None for the site's own runs)."""
    judge = (job.repro_card or {}).get("judge") or {}
    paa = judge.get(PAA) if isinstance(judge, dict) else None
    if not isinstance(paa, dict) or paa.get("run_by") != RUN_BY:
        return None
    report = paa.get("import")
    return report if isinstance(report, dict) else None
