"""Alignment jobs: DPO + LoRA toward one population of a benchmark, then a held-out evaluation
of the result and of its base on the same items.

What a target is, which items train and which are scored come from the benchmark's
declaration (`BenchmarkDefinition.alignment`, `plan_alignment`): NaVAB trains on a nation's triples
outside held-out topics and scores the rest of the release; DiverValue-Bench trains on the
train split's users of a group and scores every test-split user. The job registers the merged
model as type "aligned" (linked to its base, never ranked) and queues both evaluations, and
both again on the current release of each of the benchmark's out-of-domain sets
(DiverValue-Bench: UF-P-4), so its effect is seen in domain and out of domain.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from evaluation.alignment.train import benchmark_settings, train_dpo
from evaluation.benchmarks import out_of_domain_sets
from evaluation.benchmarks.contract import AlignmentPlan, BenchmarkDefinition
from evaluation.model_check import local_fingerprint
from evaluation.release import iter_items
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals import lifecycle
from leaderboard.evals.models import (
    ACTIVE_STATUSES,
    EvaluationJob,
    JobStatus,
    LanguageModel,
    ModelType,
)
from leaderboard.evals.runner import job_release_directory
from leaderboard.evals.slices import declaration
from pipeline.pair_source import read_pre_cr_source


def aligned_name(base: LanguageModel, target: Mapping[str, Any], job: EvaluationJob) -> str:
    # A base loaded from a server path is named by its directory: paths are not model names.
    stem = Path(base.name).name if base.name.startswith("/") else base.name
    values = [str(v) for v in target.values()]
    slug = "-".join("".join(c if c.isalnum() else "-" for c in v).strip("-") for v in values)
    return f"{stem}+dpo-{slug.lower()}-j{job.pk}"


def _plan(job: EvaluationJob, benchmark: BenchmarkDefinition, release_dir: Path) -> AlignmentPlan:
    options = job.alignment
    evaluation = list(iter_items(release_dir, benchmark.items_file))
    training: list[dict[str, Any]] = evaluation
    if options.get("source") == "pre-cr":
        # A pipeline run's statements before Conflict Reduction, scored on the run's release.
        source = read_pre_cr_source(Path(options["run_dir"]))
        training = [r.to_dict() for r in source.training]
        evaluation = [r.to_dict() for r in source.evaluation]
    return benchmark.plan_alignment(
        training,
        evaluation,
        job.alignment_target,
        narrow=job.alignment_narrowing,
        test_fraction=float(options.get("test_fraction", 0.2)),
        seed=int(options.get("seed", settings.EVAL_SEED)),
    )


def run_alignment_job(job: EvaluationJob, token: str, cancelled: threading.Event) -> None:
    base = job.model
    report = lifecycle.progress_reporter(job, token, cancelled)

    def on_progress(done: int, total: int) -> None:
        report("DPO training", done, total)

    benchmark = declaration(job.release)
    try:
        plan = _plan(job, benchmark, job_release_directory(job))
        # Under MEDIA_ROOT: storage every worker shares, and not a root submissions may name.
        out_dir = Path(settings.MEDIA_ROOT) / "aligned-models" / f"job-{job.pk}"
        result = train_dpo(
            base.weights_path or base.name,
            benchmark.dpo_pairs(plan.train),
            out_dir,
            benchmark_settings(benchmark, job.alignment.get("dpo", {})),
            revision=None if base.revision.startswith("local-") else (base.revision or None),
            merge=True,
            device=settings.EVAL_DEVICE,
            progress=on_progress,
            counts=plan.counts,
        )
    except ValueError as exc:
        raise lifecycle.ModelProblem(str(exc)) from exc
    if result.merged_dir is None:
        raise lifecycle.ModelProblem("training produced no merged model")
    card = {
        "alignment": result.to_dict(),
        "target": dict(job.alignment_target),
        "split": dict(plan.split),
        "split_summary": [list(line) for line in plan.summary],
        "exclude_uids": list(plan.exclude_uids),
        "evaluated_items": len(plan.evaluate_uids),
    }
    register_aligned_model(job, token, result.merged_dir, card)


def register_aligned_model(
    job: EvaluationJob, token: str, merged_dir: Path, card: dict[str, Any]
) -> LanguageModel | None:
    """Finish the job, register its model and queue the held-out evaluations, atomically."""
    base = job.model
    excluded = list(card["exclude_uids"])

    def publish(locked: EvaluationJob) -> str:
        aligned, _ = LanguageModel.objects.get_or_create(
            name=aligned_name(base, job.alignment_target, job),
            revision=local_fingerprint(merged_dir),
            precision=base.precision,
            defaults={
                "model_type": ModelType.ALIGNED,
                "params_billions": base.params_billions,
                "family": base.family,
                "use_chat_template": base.use_chat_template,
                "weights_path": str(merged_dir),
                "base_model": base,
                "submitter": job.requested_by,
                "is_demo": base.is_demo,
            },
        )
        locked.produced_model = aligned
        return f"Aligned model registered: {aligned.display_name}"

    with transaction.atomic():
        locked = lifecycle.finish(job, token, card, publish)
        if locked is None:
            return None
        aligned = locked.produced_model
        assert aligned is not None  # set by publish
        # The aligned model and its base are scored on exactly the same held-out release, so
        # every item gets the same prompt and option order: the comparison is truly paired.
        # Follow-ups are the site's own work: they count against nobody's daily limit.
        lifecycle.create_job(
            aligned,
            locked.release,
            exclude_uids=excluded,
            reason=f"Held-out evaluation after alignment job {locked.pk}",
        )
        try:
            lifecycle.create_job(
                base,
                locked.release,
                exclude_uids=excluded,
                reason=f"Held-out baseline for alignment job {locked.pk}",
            )
        except lifecycle.JobConflict:
            # The reaper queues it as soon as the base model's current job has ended.
            locked.alignment = {**locked.alignment, "baseline_pending": True}
            locked.save(update_fields=["alignment"])
            lifecycle.record_event(
                locked, "The base model is busy; its held-out baseline is queued once it is free."
            )
        queue_out_of_domain(locked, aligned)
    return aligned


def queue_out_of_domain(job: EvaluationJob, aligned: LanguageModel) -> None:
    """Score the aligned model and its base on every item of the current release of each
    out-of-domain set of the job's benchmark (never trained on), and record those releases on
    the job, which is where the effect page finds them. A base already scored (or being
    scored) on the whole release is not scored again: that run is the same measurement."""
    found = []
    for benchmark in out_of_domain_sets(job.release.benchmark.slug):
        release = DatasetRelease.objects.filter(benchmark__slug=benchmark.slug).current()
        if release is None:
            lifecycle.record_event(
                job, f"Not scored out of domain: no {benchmark.name} release is published."
            )
            continue
        reason = f"Out-of-domain evaluation ({benchmark.name}) after alignment job {job.pk}"
        lifecycle.create_job(aligned, release, reason=reason)
        base_runs = job.model.jobs.evaluations().filter(release=release, exclude_uids=[])
        if not base_runs.filter(status__in=[*ACTIVE_STATUSES, JobStatus.FINISHED]).exists():
            lifecycle.create_job(job.model, release, reason=f"{reason}, its base model")
        found.append({"benchmark": benchmark.slug, "release": release.pk})
    if found:
        job.alignment = {**job.alignment, "out_of_domain": found}
        job.save(update_fields=["alignment"])
