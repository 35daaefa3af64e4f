"""DPO with a LoRA adapter (trl + peft) toward a benchmark's population (NaVAB: one nation's
statements; DiverValue-Bench: the aligned answers of one group's users).

The reference policy is the base model itself: with a LoRA adapter, trl computes reference
log-probabilities with the adapter disabled, so no second copy of the model is loaded.
Remote code is never run (trust_remote_code stays False). On a GPU the base weights load in
bfloat16 and training runs in bf16 mixed precision; on CPU everything stays float32.
"""

from __future__ import annotations

import importlib.metadata
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from evaluation import repro
from evaluation.spec import ModelSpec

if TYPE_CHECKING:
    from evaluation.benchmarks.contract import BenchmarkDefinition

Progress = Callable[[int, int], None]
ADAPTER_DIR = "adapter"
MERGED_DIR = "merged"
RESULT_FILE = "alignment.json"
PACKAGES = ("trl", "peft", "accelerate")


class PreferencePair(Protocol):
    """What DPO trains on; every benchmark's `dpo_pairs` returns objects of this shape."""

    @property
    def prompt(self) -> str: ...

    @property
    def chosen(self) -> str: ...

    @property
    def rejected(self) -> str: ...


@dataclass(frozen=True)
class DPOSettings:
    learning_rate: float = 5e-5
    num_train_epochs: float = 3.0
    #: when set, the number of optimizer steps (overrides num_train_epochs)
    max_steps: int | None = None
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    #: share of the steps spent warming the learning rate up
    warmup_ratio: float = 0.1
    beta: float = 0.1
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    #: module names to adapt; None uses peft's default for the architecture
    target_modules: tuple[str, ...] | None = None
    max_length: int = 512
    #: prompt tokens kept (the last ones) before the length limit applies; None keeps all.
    #: trl 1.x dropped its own max_prompt_length, so prompts are cut here.
    max_prompt_length: int | None = None
    gradient_checkpointing: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        positive = {
            "learning_rate": self.learning_rate,
            "num_train_epochs": self.num_train_epochs,
            "batch_size": self.batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "beta": self.beta,
            "lora_r": self.lora_r,
            "lora_alpha": self.lora_alpha,
            "max_length": self.max_length,
        }
        bad = [name for name, value in positive.items() if value <= 0]
        if self.max_steps is not None and self.max_steps <= 0:
            bad.append("max_steps")
        if self.max_prompt_length is not None and self.max_prompt_length <= 0:
            bad.append("max_prompt_length")
        if bad:
            raise ValueError(f"DPO settings must be positive: {', '.join(bad)}")
        if not 0.0 <= self.warmup_ratio < 1.0 or not 0.0 <= self.lora_dropout < 1.0:
            raise ValueError("warmup_ratio and lora_dropout must be in [0, 1)")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules) if self.target_modules else None
        return data


@dataclass(frozen=True)
class AlignmentResult:
    base_model: str
    revision: str | None
    adapter_dir: Path
    merged_dir: Path | None
    steps: int
    #: (optimizer step, DPO loss) for every logged step
    loss_history: tuple[tuple[int, float], ...]
    #: training pairs per target cell (NaVAB: nation/mode)
    pair_counts: dict[str, int]
    settings: DPOSettings
    device: str
    dtype: str
    seconds: float
    versions: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_model": self.base_model,
            "revision": self.revision,
            "adapter_dir": str(self.adapter_dir),
            "merged_dir": str(self.merged_dir) if self.merged_dir else None,
            "steps": self.steps,
            "loss_history": [list(point) for point in self.loss_history],
            "pair_counts": self.pair_counts,
            "settings": self.settings.to_dict(),
            "device": self.device,
            "dtype": self.dtype,
            "seconds": self.seconds,
            "versions": self.versions,
        }


def benchmark_settings(benchmark: BenchmarkDefinition, overrides: Mapping[str, Any]) -> DPOSettings:
    """The settings of an alignment on BENCHMARK: the site's defaults, then the benchmark's
    published ones (`AlignmentDeclaration.dpo_defaults`), then OVERRIDES (unknown keys are
    not settings and are ignored)."""
    known = {f.name for f in fields(DPOSettings)}
    published: dict[str, Any] = (
        dict(benchmark.alignment.dpo_defaults) if benchmark.alignment else {}
    )
    return DPOSettings(**{**published, **{k: v for k, v in overrides.items() if k in known}})


def versions(spec: ModelSpec) -> dict[str, str]:
    found = repro.versions(spec)
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def load_tokenizer(name: str, revision: str | None = None) -> Any:
    """The model's tokenizer with a pad token: DPO batches pad, and a missing one becomes EOS."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name, revision=revision, trust_remote_code=False)
    if tokenizer.eos_token is None:
        raise ValueError(f"the tokenizer of {name} has no EOS token, which DPO needs")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def precision(device: str) -> Any:
    """The torch dtype to load weights in: bfloat16 on a GPU that has it, else float32."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def _progress_callback(progress: Progress) -> Any:
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            progress(0, state.max_steps)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            progress(state.global_step, state.max_steps)

    return ProgressCallback()


def cut_prompt(tokenizer: Any, prompt: str, max_tokens: int | None) -> str:
    """The prompt's last MAX_TOKENS tokens, as text: a long profile or question loses its
    start, never the end the answer continues."""
    if max_tokens is None:
        return prompt
    ids: list[int] = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    if len(ids) <= max_tokens:
        return prompt
    return str(tokenizer.decode(ids[-max_tokens:]))


def train_dpo(
    base_model: str,
    pairs: Sequence[PreferencePair],
    out_dir: Path,
    settings: DPOSettings | None = None,
    *,
    revision: str | None = None,
    merge: bool = False,
    device: str = "auto",
    progress: Progress | None = None,
    counts: Mapping[str, int] | None = None,
) -> AlignmentResult:
    """Train a LoRA adapter on `pairs`; save it in OUT/adapter (and OUT/merged if `merge`).

    COUNTS (training pairs per target cell) goes on the record (default: the total).
    OUT/alignment.json records the result (settings, loss
    history, versions).
    """
    settings = settings or DPOSettings()
    if not pairs:
        raise ValueError("no training pairs")
    # Same rule as evaluation: a hub id must be pinned to a commit.
    spec = ModelSpec(pretrained=base_model, revision=revision)
    run_device = repro.resolve_device(device, spec)
    if run_device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")

    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, PrinterCallback, set_seed
    from trl import DPOConfig, DPOTrainer  # type: ignore[attr-defined]  # trl's lazy exports

    started = time.monotonic()
    dtype = precision(run_device)
    use_bf16 = dtype == torch.bfloat16
    out_dir = Path(out_dir)
    set_seed(settings.seed)  # the LoRA weights are initialised before the Trainer seeds anything
    tokenizer = load_tokenizer(base_model, revision)
    model = AutoModelForCausalLM.from_pretrained(
        base_model, revision=revision, dtype=dtype, trust_remote_code=False
    )
    lora = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.target_modules) if settings.target_modules else None,
        bias="none",
        task_type="CAUSAL_LM",
    )
    dataset = Dataset.from_list(
        [
            {
                "prompt": cut_prompt(tokenizer, p.prompt, settings.max_prompt_length),
                "chosen": p.chosen,
                "rejected": p.rejected,
            }
            for p in pairs
        ]
    )
    # Nothing is checkpointed (save_strategy "no"); the Trainer still wants a directory.
    with tempfile.TemporaryDirectory(prefix="dpo-") as scratch:
        config = DPOConfig(
            output_dir=scratch,
            learning_rate=settings.learning_rate,
            num_train_epochs=settings.num_train_epochs,
            max_steps=settings.max_steps or -1,
            per_device_train_batch_size=settings.batch_size,
            gradient_accumulation_steps=settings.gradient_accumulation_steps,
            warmup_steps=settings.warmup_ratio,  # a float below 1 is a share of the steps
            beta=settings.beta,
            max_length=settings.max_length,
            gradient_checkpointing=settings.gradient_checkpointing,
            bf16=use_bf16,  # trl defaults to bf16 everywhere, CPU included
            fp16=False,
            use_cpu=run_device == "cpu",
            seed=settings.seed,
            data_seed=settings.seed,
            trust_remote_code=False,
            logging_steps=1,
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
        )
        trainer = DPOTrainer(
            model=model,
            args=config,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora,
            callbacks=[_progress_callback(progress)] if progress else None,
        )
        # With tqdm disabled the Trainer prints every log dict; progress goes through `progress`.
        trainer.remove_callback(PrinterCallback)
        trainer.train()

    policy = trainer.accelerator.unwrap_model(trainer.model)
    adapter_dir = out_dir / ADAPTER_DIR
    policy.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    merged_dir = None
    if merge:
        merged_dir = out_dir / MERGED_DIR
        merged = policy.merge_and_unload()
        merged.save_pretrained(merged_dir)
        tokenizer.save_pretrained(merged_dir)
    result = AlignmentResult(
        base_model=base_model,
        revision=revision,
        adapter_dir=adapter_dir,
        merged_dir=merged_dir,
        steps=trainer.state.global_step,
        loss_history=tuple(
            (int(entry["step"]), float(entry["loss"]))
            for entry in trainer.state.log_history
            if "loss" in entry
        ),
        pair_counts=dict(counts) if counts is not None else {"pairs": len(pairs)},
        settings=settings,
        device=run_device,
        dtype=str(dtype).removeprefix("torch."),
        seconds=round(time.monotonic() - started, 2),
        versions=versions(spec),
    )
    (out_dir / RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result
