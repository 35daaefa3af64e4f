"""Runs one evaluation job: the release on disk, the model spec, the release's benchmark's
`evaluate`, the results (generic over slices, metrics and sub-metrics)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DataError

from evaluation import EvaluationResult, ModelSpec, ProgressEvent
from evaluation.benchmarks import get_benchmark
from evaluation.errors import ModelError, ProviderBusy, SetupError
from evaluation.local_models import public_card
from evaluation.model_check import context_length, read_config
from evaluation.providers import BudgetExceeded, Usage, metering
from evaluation.providers.limits import SharedLimits
from evaluation.release import iter_items, write_benchmark_release
from evaluation.results import SCORE_FIELDS, slice_key
from evaluation.spec import Kind, parse_model_ref, vllm_available
from leaderboard.catalog.exports import release_directory
from leaderboard.catalog.models import Item
from leaderboard.evals import agreement, disparity, lifecycle, routing, sample_details
from leaderboard.evals.models import (
    EvaluationJob,
    LanguageModel,
    SampleResult,
    Score,
)
from leaderboard.tracking import storable_json

log = logging.getLogger(__name__)


def model_spec(model: LanguageModel) -> ModelSpec:
    provider = model.provider
    if provider is not None:
        # The key is named, never held: the worker reads it from its own environment.
        chat = model.served_kind == "openai-chat"
        return ModelSpec(
            kind="openai-chat" if chat else "openai-completions",
            pretrained=model.name,
            base_url=provider.base_url,
            batch_size=1 if chat else 8,
            apply_chat_template=chat or model.use_chat_template,
            api_key_env=provider.key_secret or None,
            serving=provider.serving(),
            generation=model.generation_settings,
        )
    if model.endpoint_url:
        return ModelSpec(
            kind="openai-completions",
            pretrained=model.name,
            base_url=model.endpoint_url,
            revision=model.revision or None,
            apply_chat_template=model.use_chat_template,
        )
    # GPU workers may score with vLLM (EVAL_BACKEND=vllm, the `vllm` extra); the default is
    # transformers, which every worker has. The card records which one produced the numbers.
    kind: Kind = "vllm" if settings.EVAL_BACKEND == "vllm" else "hf"
    pretrained = model.weights_path or model.name
    revision = None if model.revision.startswith("local-") else (model.revision or None)
    # A model larger than one of this worker's GPUs is sharded across them; one that fits
    # runs a copy per GPU where the backend can (evaluation.capacity.plan_layout).
    layout = routing.worker_layout(model)
    return ModelSpec(
        kind=kind,
        pretrained=pretrained,
        revision=revision,
        dtype=model.precision,
        apply_chat_template=model.use_chat_template,
        max_length=vllm_context(pretrained, revision) if kind == "vllm" else None,
        shards=layout.shards,
        replicas=layout.replicas,
    )


def vllm_context(pretrained: str, revision: str | None) -> int | None:
    """vLLM's `max_model_len`: the context the model's config states, so its KV cache is
    sized for it and the card says it (None where the config cannot be read: vLLM's own)."""
    try:
        return context_length(read_config(pretrained, revision))
    except (OSError, ValueError) as exc:
        log.warning("could not read %s's context from its config: %s", pretrained, exc)
        return None


def shared_limits() -> SharedLimits | None:
    """Where this site's workers share the providers' limits (None: each keeps its own)."""
    if not settings.EVAL_LIMITS_URL:
        return None
    prefix = f"{settings.BROKER_NAMESPACE or 'site'}:provider-limits"
    return SharedLimits(settings.EVAL_LIMITS_URL, prefix)


def reference_judge() -> ModelSpec | None:
    """The site's reference judge (EVAL_REFERENCE_JUDGE), or None where none is set."""
    if not settings.EVAL_REFERENCE_JUDGE:
        return None
    return parse_model_ref(settings.EVAL_REFERENCE_JUDGE, dtype=settings.EVAL_REFERENCE_JUDGE_DTYPE)


def job_methods(job: EvaluationJob) -> tuple[list[str] | None, dict[str, Any]]:
    """The methods a job runs (None: the benchmark's defaults for the model) and the options
    they need: a benchmark declaring reference-judged methods gets the site's reference
    judge, and without one those methods are left out (the card records why)."""
    benchmark = get_benchmark(job.release.benchmark.slug)
    methods = list(job.methods) or None
    judged = {m.key for m in benchmark.methods if m.reference_judge}
    if not judged:
        return methods, {}
    judge = reference_judge()
    if judge is None and methods:
        methods = [m for m in methods if m not in judged]
        if not methods:
            # The site's set-up, not the model: the operators must configure the judge.
            raise SetupError(
                f"{', '.join(sorted(judged))} needs the site's reference judge; set "
                "EVAL_REFERENCE_JUDGE on the workers"
            )
    return methods, {"reference_judge": judge}


def job_release_directory(job: EvaluationJob) -> Path:
    """The release on disk, less the job's excluded items (an aligned model's training set)."""
    full = release_directory(job.release)
    if not job.exclude_uids:
        return full
    benchmark = get_benchmark(job.release.benchmark.slug)
    excluded = set(job.exclude_uids)
    subset = Path(settings.EVAL_RESULTS_DIR) / f"job-{job.pk}" / "release"
    write_benchmark_release(
        subset,
        benchmark,
        (item for item in iter_items(full, benchmark.items_file) if item["uid"] not in excluded),
        {
            "version": f"{job.release.version}-without-{len(excluded)}",
            "parent": job.release.version,
        },
    )
    return subset


def run_job(job: EvaluationJob, token: str, cancelled: threading.Event) -> None:
    report = lifecycle.progress_reporter(job, token, cancelled)

    def on_progress(event: ProgressEvent) -> None:
        report(event.stage, event.done, event.total)

    if settings.EVAL_BACKEND == "vllm" and not vllm_available():
        # This worker's set-up, not the model: fail as infrastructure so another worker retries.
        raise RuntimeError("EVAL_BACKEND=vllm but vLLM is not installed on this worker")
    benchmark = get_benchmark(job.release.benchmark.slug)
    release_dir = job_release_directory(job)
    methods, options = job_methods(job)
    # Answers a provider gave to this job's earlier tries are not paid for again; a re-run
    # is a new job and asks again (the point of re-running a served model).
    cache_dir = Path(settings.EVAL_RESULTS_DIR) / "api-cache" / f"job-{job.pk}"
    # The job's spend so far: its usage and budget are the job's, not this try's.
    spent = EvaluationJob.objects.filter(pk=job.pk).values_list("usage", flat=True).get()
    try:
        spec = model_spec(job.model)
    except ValueError as exc:
        # The spec is the submitted model's own description (its kind, endpoint, precision).
        raise lifecycle.ModelProblem(str(exc)) from exc
    # A chat model's own answer length, where it chose one (the card records it).
    max_gen_toks = (spec.generation and spec.generation.max_tokens) or settings.EVAL_MAX_GEN_TOKENS
    with metering(
        job.budget,
        cache_dir,
        Usage.from_dict(spent or {}),
        limits=shared_limits(),
        retry_after_cap_s=settings.EVAL_RETRY_AFTER_CAP_S,
    ) as session:
        try:
            # What the benchmark raises says who is blamed (`evaluation.errors`): ModelError
            # the model; SetupError the site (handled by the task); anything else is retried.
            result = benchmark.evaluate(
                spec,
                release_dir,
                methods=methods,
                **options,
                seed=settings.EVAL_SEED,
                device=settings.EVAL_DEVICE,
                max_gen_toks=max_gen_toks,
                progress=on_progress,
            )
        except ProviderBusy as exc:
            # Longer than a request waits in place: the job waits, queued again (not failed).
            raise lifecycle.ProviderWait(str(exc), exc.wait_s) from exc
        except BudgetExceeded as exc:
            # Worded now that the requests in flight have landed: it counts what is stored.
            raise lifecycle.ModelProblem(str(session.budget_exceeded())) from exc
        except ModelError as exc:
            raise lifecycle.ModelProblem(str(exc)) from exc
        finally:
            used = session.usage.requests or session.usage.cached or session.usage.retries
            if job.model.provider_id is not None or used:
                # Kept whatever happened: a failed or stopped job has cost money too. An open
                # model's job pays a provider too when its judges are served (PAA's panel).
                usage = session.usage.to_dict() | {"budget_usd": job.budget}
                EvaluationJob.objects.filter(pk=job.pk).update(usage=usage)
    if not isinstance(result, EvaluationResult):
        # The site stores the generic results only; anything else is the deployment's fault.
        raise SetupError(
            f"{benchmark.slug}'s evaluate returned {type(result).__name__}, not an "
            "evaluation.results.EvaluationResult"
        )
    try:
        store_results(job, token, result, Path(settings.EVAL_RESULTS_DIR))
    except (DataError, sample_details.UnstorableOutput) as exc:
        # Every value stored there is the model's output or computed from it: one PostgreSQL
        # refuses is the model's problem, and another worker would only be refused again.
        raise lifecycle.ModelProblem(f"The model's output could not be stored: {exc}") from exc


def store_results(job: EvaluationJob, token: str, result: EvaluationResult, out_dir: Path) -> bool:
    """Scores, per-example results and the card land together or not at all.

    The harness's own files (results.json, samples.jsonl, answers.jsonl) are kept first under
    OUT_DIR/job-<pk>, so every published number can be audited against the raw output.
    """
    result.write(Path(out_dir) / f"job-{job.pk}")
    item_ids: dict[str, int] = dict(
        Item.objects.filter(release=job.release).values_list("uid", "id")
    )

    def publish(locked: EvaluationJob) -> str:
        Score.objects.filter(job=locked).delete()
        SampleResult.objects.filter(job=locked).delete()
        Score.objects.bulk_create(
            Score(
                job=locked,
                slice_key=slice_key(row.slices),
                **{name: getattr(row, name) for name in SCORE_FIELDS},
            )
            for row in result.scores
        )
        SampleResult.store(
            locked.pk,
            [
                SampleResult.with_long(
                    s.parts,
                    storable_json(s.details),
                    job=locked,
                    item_id=item_ids[s.uid],
                    method=s.method,
                    value=s.value,
                    correct=s.correct,
                    chosen=s.chosen,
                )
                for s in result.samples
            ],
        )
        disparity.safely_compute(locked, result.card.seed)
        agreement.safely_compute(locked)
        return "Finished; scores published"

    # The card is published (pages, API, downloads): local models and judges by name and
    # fingerprint, never by the path they sit at on this worker.
    known = {job.model.name: job.model.revision} if job.model.revision.startswith("local-") else {}
    card = public_card(result.card.to_dict(), known)
    return lifecycle.finish(job, token, card, publish) is not None
