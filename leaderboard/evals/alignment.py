"""Alignment jobs: DPO + LoRA toward one nation, then a held-out evaluation of the result.

An ALIGN job trains on the release's items for the target nation outside the held-out topics,
registers the merged model as type "aligned" (linked to its base), and queues an evaluation of
it on the release without its training items: the target nation's held-out topics and every
other nation in full, so the model page can show both the effect on the target nation and
the cross-nation effect.
"""

from __future__ import annotations

import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from evaluation.alignment.pairset import prepare_pairs
from evaluation.alignment.source import read_release_source
from evaluation.alignment.train import DPOSettings, train_dpo
from evaluation.model_check import local_fingerprint
from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, LanguageModel, ModelType
from leaderboard.evals.runner import job_release_directory
from pipeline.pair_source import read_pre_cr_source

DPO_FIELDS = {f.name for f in fields(DPOSettings)}


def dpo_settings(options: dict[str, Any]) -> DPOSettings:
    """The job's DPO settings: the papers' defaults, overridden by what the job asked for."""
    return DPOSettings(**{k: v for k, v in options.items() if k in DPO_FIELDS})


def aligned_name(base: LanguageModel, nation: str, modes: list[str], job: EvaluationJob) -> str:
    # A base loaded from a server path is named by its directory: paths are not model names.
    stem = Path(base.name).name if base.name.startswith("/") else base.name
    return f"{stem}+dpo-{nation}-{'-'.join(modes)}-j{job.pk}"


def run_alignment_job(job: EvaluationJob, token: str, cancelled: threading.Event) -> None:
    options = job.alignment
    nation = str(options["nation"])
    modes = [str(m) for m in options.get("modes") or ["quoted", "official"]]
    base = job.model
    report = lifecycle.progress_reporter(job, token, cancelled)

    def on_progress(done: int, total: int) -> None:
        report("DPO training", done, total)

    release_dir = job_release_directory(job)
    try:
        if options.get("source") == "pre-cr":
            source = read_pre_cr_source(Path(options["run_dir"]))
        else:
            source = read_release_source(release_dir)
        pair_set = prepare_pairs(
            source,
            nation,
            modes,
            test_fraction=float(options.get("test_fraction", 0.2)),
            seed=int(options.get("seed", settings.EVAL_SEED)),
        )
        # Under MEDIA_ROOT: storage every worker shares, and not a root submissions may name.
        out_dir = Path(settings.MEDIA_ROOT) / "aligned-models" / f"job-{job.pk}"
        result = train_dpo(
            base.weights_path or base.name,
            pair_set.train,
            out_dir,
            dpo_settings(options.get("dpo", {})),
            revision=None if base.revision.startswith("local-") else (base.revision or None),
            merge=True,
            device=settings.EVAL_DEVICE,
            progress=on_progress,
        )
    except ValueError as exc:
        raise lifecycle.ModelProblem(str(exc)) from exc
    if result.merged_dir is None:
        raise lifecycle.ModelProblem("training produced no merged model")
    card = {
        "alignment": result.to_dict(),
        "split": pair_set.split.to_dict(),
        "pairs": pair_set.summary(),
    }
    register_aligned_model(job, token, result.merged_dir, nation, modes, card)


def register_aligned_model(
    job: EvaluationJob,
    token: str,
    merged_dir: Path,
    nation: str,
    modes: list[str],
    card: dict[str, Any],
) -> LanguageModel | None:
    """Finish the job, register its model and queue the held-out evaluation, atomically."""
    base = job.model
    train_uids: list[str] = list(card["split"]["train"]["uids"])

    def publish(locked: EvaluationJob) -> str:
        aligned, _ = LanguageModel.objects.get_or_create(
            name=aligned_name(base, nation, modes, job),
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
            exclude_uids=train_uids,
            reason=f"Held-out evaluation after alignment job {locked.pk}",
        )
        try:
            lifecycle.create_job(
                base,
                locked.release,
                exclude_uids=train_uids,
                reason=f"Held-out baseline for alignment job {locked.pk}",
            )
        except lifecycle.JobConflict:
            # The reaper queues it as soon as the base model's current job has ended.
            locked.alignment = {**locked.alignment, "baseline_pending": True}
            locked.save(update_fields=["alignment"])
            lifecycle.record_event(
                locked, "The base model is busy; its held-out baseline is queued once it is free."
            )
    return aligned
