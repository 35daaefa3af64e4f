"""Which GPU queue a job goes to, and which queues a GPU worker listens on.

The site's capacities (`EVAL_GPU_CAPACITIES`, e.g. "1x80g,8x80g") each have a queue,
`gpu.<capacity>` in the broker namespace; a job goes to the smallest that holds its model
(`evaluation.capacity`, where the memory formula lives). A worker declares its capacity at
start-up and adds that queue to the ones it was started on; the plain `gpu` queue keeps serving
served models, and every job where no capacity is configured.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from evaluation.alignment.memory import Shape, TrainingNeed, dpo_lora_need
from evaluation.alignment.train import benchmark_settings
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.capacity import (
    GPU_ROLE,
    Backend,
    Capacity,
    Layout,
    NoCapacity,
    explain_need,
    memory_need_gb,
    plan_layout,
    route,
    worker_capacity,
)
from evaluation.model_check import read_config
from leaderboard.evals.models import EvaluationJob, JobKind, LanguageModel
from leaderboard.evals.slices import declaration

log = logging.getLogger(__name__)

#: this process's capacity, when it is a GPU worker that declared one (set at start-up)
_worker: Capacity | None = None


def queue_name(role: str) -> str:
    """ROLE's queue in this site's broker namespace."""
    return settings.BROKER_QUEUES["default"].removesuffix("default") + role


def need_gb(params: float | None, precision: str) -> float | None:
    return None if params is None else memory_need_gb(params, precision)


def model_need_gb(model: LanguageModel) -> float | None:
    """GB of GPU memory MODEL needs; None where it is not known (its size was not read)."""
    params = model.params_billions * 1e9 if model.params_billions is not None else None
    return need_gb(params, model.precision)


def check_fits(params: float | None, precision: str) -> None:
    """Raise NoCapacity, saying why, where no configured capacity holds the model."""
    try:
        route(need_gb(params, precision), settings.EVAL_GPU_CAPACITIES)
    except NoCapacity as exc:
        need = explain_need(params, precision) if params is not None else "its size"
        raise NoCapacity(
            f"No GPU worker of this site can hold this model ({need}): {exc}."
        ) from exc


def capacity_for(model: LanguageModel) -> Capacity | None:
    """The capacity MODEL's jobs go to (None: the plain `gpu` queue; NoCapacity where no
    configured one holds it). A served model needs no GPU of ours: any GPU worker sends its
    requests."""
    if model.provider_id is not None or model.endpoint_url:
        return None
    return route(model_need_gb(model), settings.EVAL_GPU_CAPACITIES)


def alignment_need(
    model: LanguageModel, dpo: Mapping[str, Any], benchmark: Any
) -> TrainingNeed | None:
    """What an alignment of MODEL with the DPO overrides (on BENCHMARK's published settings)
    needs on its GPU; None where the model's size or shape is not known (its config cannot be
    read): it then goes where a model of unknown size goes."""
    if model.params_billions is None:
        return None
    revision = None if model.revision.startswith("local-") else (model.revision or None)
    try:
        shape = Shape.from_config(read_config(model.weights_path or model.name, revision))
    except (OSError, ValueError) as exc:
        log.warning("could not read %s's config for its training memory: %s", model.name, exc)
        return None
    if shape is None:
        return None
    return dpo_lora_need(model.params_billions * 1e9, shape, benchmark_settings(benchmark, dpo))


def check_alignment_fits(
    model: LanguageModel, dpo: Mapping[str, Any], benchmark: BenchmarkDefinition
) -> None:
    """Raise NoCapacity, saying why, where no configured GPU holds MODEL's alignment."""
    if not settings.EVAL_GPU_CAPACITIES:
        return
    need = alignment_need(model, dpo, benchmark)
    try:
        route(need.gb if need else None, settings.EVAL_GPU_CAPACITIES, one_gpu=True)
    except NoCapacity as exc:
        assert need is not None  # an unknown need is never refused
        raise NoCapacity(
            f"No GPU worker of this site can align this model ({need.explain()}): {exc}."
        ) from exc


def capacity_for_job(job: EvaluationJob) -> Capacity | None:
    """The capacity JOB goes to: an evaluation by its model's need (`capacity_for`), an
    alignment by its training's, on one GPU (NoCapacity where none holds it)."""
    if job.kind != JobKind.ALIGN:
        return capacity_for(job.model)
    if not settings.EVAL_GPU_CAPACITIES:
        return None  # one `gpu` queue: the model's shape is not needed, nor read
    need = alignment_need(job.model, job.alignment.get("dpo", {}), declaration(job.release))
    return route(need.gb if need else None, settings.EVAL_GPU_CAPACITIES, one_gpu=True)


def queue_of(capacity: Capacity | None) -> str:
    return queue_name(GPU_ROLE if capacity is None else capacity.queue_role)


def gpu_queues() -> list[str]:
    """Every queue a GPU job may wait on (the reaper looks for lost messages on all)."""
    roles = [GPU_ROLE, *(c.queue_role for c in settings.EVAL_GPU_CAPACITIES)]
    return [queue_name(role) for role in roles]


def declare_worker(consumer: Any, environ: dict[str, str] | None = None) -> Capacity | None:
    """At a worker's start-up: where it consumes the `gpu` queue, read its capacity (declared
    or detected) and add that capacity's queue. CONSUMER is Celery's worker instance."""
    global _worker
    queues = consumer.app.amqp.queues
    if queue_name(GPU_ROLE) not in queues.consume_from:  # without -Q: every configured queue
        return None
    _worker = worker_capacity(
        os.environ if environ is None else environ, settings.EVAL_GPU_CAPACITIES
    )
    if _worker is not None:
        queues.select_add(queue_name(_worker.queue_role))
        log.info("GPU worker capacity %s: also consuming %s", _worker.name, _worker.queue_role)
    return _worker


def worker_layout(model: LanguageModel) -> Layout:
    """How MODEL is laid out on this worker's GPUs (one device where it declared none)."""
    backend: Backend = "vllm" if settings.EVAL_BACKEND == "vllm" else "hf"
    return plan_layout(model_need_gb(model), _worker, backend)
