"""GPU capacity: what a model needs, what a worker has, which queue a job goes to and how the
model is laid out on the worker's GPUs. The one place the memory formula and its margin live.

A model needs ``parameters x bytes per parameter x (1 + MEMORY_MARGIN)``: its weights in the
submitted precision plus a stated margin for activations and the KV cache (the site's prompts
are short, a few hundred tokens, scored in batches; vLLM takes the margin for its KV cache).
A capacity is ``GPUS x MEMORY_GB`` per worker, named ``<gpus>x<memory>g`` ("1x80g", "8x80g");
its Celery queue is ``gpu.<name>``. A job goes to the smallest configured capacity (by total
memory, then fewer GPUs) that holds its need; a model no capacity holds is refused.

An alignment job (DPO + LoRA training, on one GPU) needs what `evaluation.alignment.memory`
computes instead, and is routed here with `one_gpu`.

No Django here: workers, the web site and the command line read the same rules.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

#: bytes one parameter takes in each precision a submission may ask for. "auto" loads the
#: checkpoint's own dtype, 16-bit for the models people submit today: counted as 2 bytes.
BYTES_PER_PARAMETER: Mapping[str, float] = {
    "float32": 4.0,
    "bfloat16": 2.0,
    "float16": 2.0,
    "auto": 2.0,
}
#: memory on top of the weights, as a fraction of them, for activations and the KV cache
MEMORY_MARGIN = 0.25
#: the queue family of model work; capacities are queues under it (`gpu.1x80g`)
GPU_ROLE = "gpu"
#: a detected GPU's memory is snapped to a configured size within this fraction of it (an
#: "80 GB" H100 reports 79.6 GiB, a "40 GB" A100 39.4 GiB)
DETECTED_TOLERANCE = 0.1

Backend = Literal["hf", "vllm"]
_NAME = re.compile(r"^\s*([1-9][0-9]*)\s*x\s*([0-9]*\.?[0-9]+)\s*g(?:b)?\s*$", re.IGNORECASE)


def memory_need_gb(params: float, precision: str) -> float:
    """GB of GPU memory a model of PARAMS parameters needs in PRECISION (weights + margin)."""
    if precision not in BYTES_PER_PARAMETER:
        raise ValueError(f"unknown precision {precision!r}")
    return params * BYTES_PER_PARAMETER[precision] * (1 + MEMORY_MARGIN) / 1e9


def explain_need(params: float, precision: str) -> str:
    """The formula with the model's numbers, as a refusal quotes it."""
    return (
        f"{params / 1e9:.1f}B parameters x {BYTES_PER_PARAMETER[precision]:g} bytes in "
        f"{precision} + {MEMORY_MARGIN:.0%} for activations and the KV cache = "
        f"{memory_need_gb(params, precision):.3g} GB"
    )


@dataclass(frozen=True, order=True)
class Capacity:
    """GPUs per worker and memory per GPU (GB)."""

    gpus: int
    memory_gb: float

    def __post_init__(self) -> None:
        if self.gpus < 1:
            raise ValueError("a capacity has at least one GPU")
        if not self.memory_gb > 0:
            raise ValueError("a GPU's memory must be positive")

    @property
    def name(self) -> str:
        return f"{self.gpus}x{self.memory_gb:g}g"

    @property
    def total_gb(self) -> float:
        return self.gpus * self.memory_gb

    @property
    def queue_role(self) -> str:
        """The queue's name before the site's broker namespace (`gpu.8x80g`)."""
        return f"{GPU_ROLE}.{self.name}"

    def gpus_needed(self, need_gb: float) -> int:
        """GPUs of this capacity one copy of a model needing NEED_GB spans (at least 1)."""
        return max(1, math.ceil(need_gb / self.memory_gb - 1e-9))

    def holds(self, need_gb: float) -> bool:
        return self.gpus_needed(need_gb) <= self.gpus


def parse_capacity(text: str) -> Capacity:
    """'8x80g' (or '8x80', '8x80GB') as a Capacity."""
    match = _NAME.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a capacity: write GPUSxMEMORYg, e.g. 1x80g or 8x80g")
    return Capacity(int(match.group(1)), float(match.group(2)))


def parse_capacities(text: str) -> tuple[Capacity, ...]:
    """A comma-separated list of capacities, smallest first (duplicates once)."""
    found = {parse_capacity(part) for part in text.split(",") if part.strip()}
    return tuple(sorted(found, key=_size))


def _size(capacity: Capacity) -> tuple[float, int]:
    return (capacity.total_gb, capacity.gpus)


class NoCapacity(ValueError):
    """No configured capacity holds the model; the message says why, for the submitter."""


def route(
    need_gb: float | None, capacities: Iterable[Capacity], *, one_gpu: bool = False
) -> Capacity | None:
    """The smallest of CAPACITIES that holds NEED_GB (None: none is configured); with ONE_GPU,
    on one of its GPUs (work that runs on one device: DPO training, `evaluation.alignment.memory`).
    A model of unknown size goes to the largest, where it is likeliest to fit."""
    ordered = sorted(capacities, key=_size)
    if not ordered:
        return None
    if need_gb is None:
        return max(ordered, key=lambda c: c.memory_gb) if one_gpu else ordered[-1]
    for capacity in ordered:
        if capacity.holds(need_gb) if not one_gpu else capacity.gpus_needed(need_gb) == 1:
            return capacity
    if one_gpu:
        biggest = max(ordered, key=lambda c: c.memory_gb)
        raise NoCapacity(
            f"the largest GPU of this site's workers has {biggest.memory_gb:g} GB "
            f"({biggest.name}), and this runs on one GPU"
        )
    largest = ordered[-1]
    raise NoCapacity(
        f"the largest GPU workers here have {largest.gpus} x {largest.memory_gb:g} GB "
        f"({largest.name}), {largest.total_gb:g} GB in all"
    )


@dataclass(frozen=True)
class Layout:
    """How one job uses a worker's GPUs: each copy of the model spans SHARDS GPUs (vLLM's
    `tensor_parallel_size`, transformers' `device_map` sharding through lm-eval's
    `parallelize=True`), and REPLICAS copies score items side by side (vLLM's
    `data_parallel_size`; transformers: one process per GPU, `evaluation.data_parallel`)."""

    shards: int = 1
    replicas: int = 1

    def __post_init__(self) -> None:
        if self.shards < 1 or self.replicas < 1:
            raise ValueError("shards and replicas are at least 1")

    @property
    def gpus(self) -> int:
        return self.shards * self.replicas

    def describe(self, backend: str = "") -> str:
        """In words, as the card shows it (BACKEND names how a model is sharded)."""
        if self.gpus == 1:
            return "one device"
        parts = []
        if self.shards > 1:
            sharding = {"vllm": " (vLLM tensor parallel)", "hf": " (transformers device_map)"}
            parts.append(f"sharded across {self.shards} GPUs{sharding.get(backend, '')}")
        if self.replicas > 1:
            processes = " (one transformers process per GPU)" if backend == "hf" else ""
            parts.append(f"{self.replicas} data-parallel copies{processes}")
        return ", ".join(parts)


def plan_layout(need_gb: float | None, worker: Capacity | None, backend: Backend) -> Layout:
    """The layout of a model needing NEED_GB on a WORKER (None: undeclared, one device).

    vLLM spans the fewest GPUs that hold the model, rounded up to a power of two (tensor
    parallelism splits attention heads, which come in powers of two), and fills the rest of
    the node with copies. transformers shards one copy across every GPU it sees when the model
    needs more than one (lm-eval's `parallelize=True` takes them all), and otherwise runs a copy
    on each GPU, one process per GPU (`evaluation.data_parallel`), so the job uses the node.
    A model of unknown size is sharded across the whole worker, where it is likeliest to fit.
    """
    if worker is None or worker.gpus == 1:
        return Layout()
    needed = worker.gpus if need_gb is None else worker.gpus_needed(need_gb)
    if backend == "hf":
        return Layout(shards=worker.gpus) if needed > 1 else Layout(replicas=worker.gpus)
    shards = 1
    while shards < needed:
        shards *= 2
    shards = min(shards, worker.gpus)
    return Layout(shards=shards, replicas=worker.gpus // shards)


def snap(detected: Capacity, configured: Iterable[Capacity]) -> Capacity:
    """DETECTED named as the configured capacity it matches (same GPU count, memory within
    DETECTED_TOLERANCE), so a worker listens where the site sends; itself if none matches."""
    for capacity in configured:
        close = abs(capacity.memory_gb - detected.memory_gb) <= DETECTED_TOLERANCE * (
            capacity.memory_gb
        )
        if capacity.gpus == detected.gpus and close:
            return capacity
    return detected


_PROBE = (
    "import torch\n"
    "n = torch.cuda.device_count() if torch.cuda.is_available() else 0\n"
    "print(n, min((torch.cuda.get_device_properties(i).total_memory for i in range(n)),"
    " default=0))\n"
)


def detect_gpus(timeout_s: float = 120) -> Capacity | None:
    """The visible CUDA GPUs (count, and the smallest one's memory in GiB), None without any.

    Probed in a child process: initialising CUDA in a Celery worker's main process would break
    the pool processes it forks.
    """
    try:
        out = subprocess.run(
            [sys.executable, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    count, memory = int(out[0]), int(out[1])
    if count == 0:
        return None
    return Capacity(count, round(memory / 2**30, 1))


def worker_capacity(env: Mapping[str, str], configured: Iterable[Capacity] = ()) -> Capacity | None:
    """This worker's capacity: declared by EVAL_WORKER_GPUS and EVAL_WORKER_GPU_MEMORY_GB
    (both, or neither), else read from the device (snapped to a configured size); None on a
    worker with neither, or one told to run on the CPU (it listens on the plain `gpu` queue
    only)."""
    gpus, memory = env.get("EVAL_WORKER_GPUS", ""), env.get("EVAL_WORKER_GPU_MEMORY_GB", "")
    if gpus or memory:
        if not (gpus and memory):
            raise ValueError("set both EVAL_WORKER_GPUS and EVAL_WORKER_GPU_MEMORY_GB, or neither")
        try:
            return Capacity(int(gpus), float(memory))
        except ValueError as exc:
            raise ValueError(f"EVAL_WORKER_GPUS / EVAL_WORKER_GPU_MEMORY_GB: {exc}") from exc
    if env.get("EVAL_DEVICE", "auto") == "cpu":
        return None
    detected = detect_gpus()
    return None if detected is None else snap(detected, configured)
