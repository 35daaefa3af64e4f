"""The reproducibility card: versions, hardware, settings and the exact commands of a run."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from evaluation.spec import SERVED, ModelSpec

PACKAGES = ("lm_eval", "transformers", "torch", "tokenizers", "datasets", "navab-leaderboard")


def versions(spec: ModelSpec) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in (*PACKAGES, *(("vllm",) if spec.kind == "vllm" else ())):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def resolve_device(device: str, spec: ModelSpec) -> str:
    """'auto' becomes cuda when a GPU is visible, else cpu; served models run on their server."""
    if spec.kind in SERVED:
        return "endpoint"
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return str(torch.cuda.get_device_name(torch.device(device)))
    if device == "endpoint":
        return "remote endpoint"
    return platform.processor() or platform.machine() or "cpu"


def _join(parts: Sequence[str | Path]) -> str:
    return shlex.join(str(part) for part in parts)


def _filters(methods: Sequence[str], slices: Mapping[str, Sequence[str]]) -> list[str]:
    """The selection flags; a dimension with no values given keeps all the release holds."""
    parts = ["--methods", ",".join(methods)]
    for key, values in slices.items():
        if values:
            parts += ["--slice", f"{key}={','.join(values)}"]
    return parts


def _layout(spec: ModelSpec) -> list[str]:
    """The job's layout on the worker's GPUs, as `python -m evaluation run` takes it."""
    parts = []
    if spec.shards > 1:
        parts += ["--shards", str(spec.shards)]
    if spec.replicas > 1:
        parts += ["--replicas", str(spec.replicas)]
    return parts


def run_command(
    spec: ModelSpec,
    judge: ModelSpec | None,
    release_dir: Path,
    out_dir: Path | str,
    *,
    benchmark: str,
    methods: Sequence[str],
    slices: Mapping[str, Sequence[str]],
    seed: int,
    device: str,
    limit: int | None,
    max_gen_toks: int,
    reference_judge: ModelSpec | None = None,
) -> str:
    """The `python -m evaluation run` command that repeats this run."""
    parts: list[str | Path] = ["python", "-m", "evaluation", "run", "--benchmark", benchmark]
    parts += ["--kind", spec.kind]
    parts += ["--model", spec.pretrained]
    if spec.revision:
        parts += ["--revision", spec.revision]
    if spec.base_url:
        parts += ["--base-url", spec.base_url]
    if spec.api_key_env:
        parts += ["--api-key-env", spec.api_key_env]  # the secret's name, never its value
    parts += ["--dtype", spec.dtype, "--batch-size", str(spec.batch_size)]
    if spec.apply_chat_template:
        parts.append("--chat-template")
    parts += _layout(spec)
    if spec.generation is not None and spec.generation.to_dict():
        parts += ["--generation", json.dumps(spec.generation.to_dict(), sort_keys=True)]
    if judge is not None:
        parts += ["--judge", judge.pretrained]
        if judge.revision:
            parts += ["--judge-revision", judge.revision]
    if reference_judge is not None:
        parts += ["--reference-judge", reference_judge.pretrained]
        if reference_judge.revision:
            parts += ["--reference-judge-revision", reference_judge.revision]
    parts += _filters(methods, slices)
    parts += ["--release", release_dir, "--out", out_dir, "--seed", str(seed)]
    parts += ["--device", device, "--max-gen-toks", str(max_gen_toks)]
    if limit is not None:
        parts += ["--limit", str(limit)]
    return _join(parts)


def export_command(
    release_dir: Path,
    tasks_dir: Path | str,
    *,
    benchmark: str,
    methods: Sequence[str],
    slices: Mapping[str, Sequence[str]],
    limit: int | None,
    max_gen_toks: int,
    answers: Path | str | None = None,
) -> str:
    parts: list[str | Path] = ["python", "-m", "evaluation", "export-tasks"]
    parts += ["--benchmark", benchmark, release_dir, tasks_dir, *_filters(methods, slices)]
    parts += ["--max-gen-toks", str(max_gen_toks)]
    if limit is not None:
        parts += ["--limit", str(limit)]
    if answers is not None:
        parts += ["--answers", answers]
    return _join(parts)


def lm_eval_command(
    spec: ModelSpec,
    tasks: Sequence[str],
    tasks_dir: Path | str,
    output_path: Path | str,
    *,
    seed: int,
    device: str,
) -> str:
    """The stock `lm_eval` command that computes the same log-likelihoods (or, for a chat
    model, sends the same requests) for `tasks`, on the job's layout: vLLM's and a sharded
    transformers model's are in `model_args`; transformers copies side by side are accelerate's
    processes, one per GPU (lm-eval then splits the documents among them, to the same per-item
    results). A served model's key is named, never shown: stock lm-eval reads OPENAI_API_KEY,
    set from the provider's secret."""
    parts: list[str | Path] = ["lm_eval", "run", "--model", spec.lm_eval_model]
    if spec.kind == "hf" and spec.replicas > 1:
        launch = ["accelerate", "launch", "--multi_gpu", "--num_processes", str(spec.replicas)]
        parts = [*launch, "-m", *parts]
    parts += ["--model_args", spec.model_args_string(), "--tasks", ",".join(tasks)]
    parts += ["--include_path", tasks_dir, "--batch_size", str(spec.batch_size)]
    if device != "endpoint":
        parts += ["--device", device]
    if spec.apply_chat_template:
        parts.append("--apply_chat_template")
    chosen = spec.generation
    if chosen is not None and chosen.system_prompt:
        parts += ["--system_instruction", chosen.system_prompt]
    if chosen is not None and chosen.temperature is not None and not chosen.reasoning:
        parts += ["--gen_kwargs", f"temperature={chosen.temperature:g}"]
    parts += ["--seed", str(seed), "--log_samples", "--output_path", output_path]
    command = _join(parts)
    if spec.kind in SERVED and spec.api_key_env:
        command = f'OPENAI_API_KEY="${spec.api_key_env}" {command}'
    if chosen is not None and chosen.reasoning:
        # Said on the card, where a reader would otherwise take the command as equivalent.
        return f"{REASONING_NOT_STOCK}\n{command}"
    return command


#: lm-eval's chat client cannot send what a reasoning API takes
REASONING_NOT_STOCK = (
    "# Reasoning mode: stock lm-eval's local-chat-completions always sends stop, temperature "
    "and max_tokens, which reasoning APIs refuse; this run's requests are repeated by the "
    "`python -m evaluation run` command above, with its --generation."
)
