"""GPU throughput of the harness: Llama-architecture models with random weights, built on the device.

No download: a model is built from a config with real shapes (`1b`: Llama 3.2 1B, `7b`: Llama 2
7B; `tiny` for CPU tests), its weights random, directly on the device; the tokenizer is a BPE
trained offline on the synthetic items' text (whole-word tokens, so texts encode to realistic
lengths). The site's harness then runs NaVAB MC and AJ on N NaVAB-shaped items and
DiverValue-Bench OPA on N DVB-shaped items, as a worker runs them (`benchmark.evaluate`), with:

- `hf`: lm-eval's transformers backend around the model built in memory (bf16 on CUDA,
  float32 on CPU);
- `vllm` (when importable): lm-eval's vLLM backend with `load_format=dummy`, vLLM's own
  random weights, on a directory holding only the config and tokenizer.

Only model loading is replaced (a random 7B checkpoint would be 13.5 GB written and read back
for nothing); everything after it is the harness as shipped. Random weights never emit AJ's
stop sequences, so every answer runs to --max-gen-toks (the site's default, 128): AJ's figure
is a worst case. Printed as it goes: versions and device first, then items/s per method and
the projected minutes for a 20,000-item release, then whether 7B NaVAB MC + AJ fits in
10 minutes. Each line is flushed, so a run cut short by `timeout` keeps what it measured.

    python benchmarks/gpu_throughput.py --preset 7b --items 2000
    python benchmarks/gpu_throughput.py --preset tiny --device cpu --items 8
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")

from benchmarks.synthetic import divervalue_release, navab_release  # noqa: E402
from evaluation.benchmarks import get_benchmark  # noqa: E402
from evaluation.release import iter_items  # noqa: E402
from evaluation.spec import ModelSpec, vllm_available  # noqa: E402

RELEASE_ITEMS = 20_000
GOAL_MINUTES = 10.0
METHODS = ("navab:mc", "navab:aj", "divervalue:opa")
# Shapes of the published models (vocab None: the offline tokenizer's size).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": None,
    },
    "1b": {
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 8192,
        "vocab_size": 128256,
        "tie_word_embeddings": True,
        "rope_theta": 500000.0,
    },
    "7b": {
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "intermediate_size": 11008,
        "vocab_size": 32000,
    },
}


def say(line: str) -> None:
    print(line, flush=True)


def header(device: str, preset: str) -> str:
    import lm_eval
    import torch
    import transformers

    where = device
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        where = f"{device} ({props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda})"
    vllm = "absent"
    if vllm_available():
        import vllm

        vllm = vllm.__version__
    shape = ", ".join(f"{k}={v}" for k, v in PRESETS[preset].items())
    return (
        f"device {where}; torch {torch.__version__}, transformers {transformers.__version__}, "
        f"lm_eval {lm_eval.__version__}, vllm {vllm}; preset {preset}: {shape}"
    )


def build_model_dir(directory: Path, preset: str, corpus: list[str], pad: bool) -> tuple[Any, Any]:
    """The preset's config and the offline tokenizer saved in `directory` (no weights). `pad`
    fills the tokenizer up to the model's vocabulary with unused tokens, so every id vLLM's
    random weights may generate decodes (loading such a tokenizer takes seconds longer)."""
    from transformers import LlamaConfig

    from evaluation.tiny_models import build_tokenizer

    tokenizer = build_tokenizer(vocab_size=2000 if preset == "tiny" else 8000, corpus=corpus)
    shape = dict(PRESETS[preset])
    shape["vocab_size"] = shape["vocab_size"] or len(tokenizer)
    if pad:
        unused = [f"<unused{i}>" for i in range(len(tokenizer), shape["vocab_size"])]
        tokenizer.add_tokens(unused, special_tokens=True)
    config = LlamaConfig(
        **shape,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        architectures=["LlamaForCausalLM"],
    )
    config.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return config, tokenizer


def build_model(config: Any, tokenizer: Any, device: str, dtype: Any) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    with torch.no_grad():
        # Ids the tokenizer lacks score 0, below the random logits of the ones it has, so
        # generated text always decodes.
        model.get_output_embeddings().weight[len(tokenizer) :] = 0
    return model.eval()


def load_lm(backend: str, spec: ModelSpec, config: Any, tokenizer: Any, args: Any) -> Any:
    if backend == "vllm":
        from lm_eval.api.registry import get_model

        model_args = {**spec.to_lm_eval_args(), "load_format": "dummy", "seed": 0}
        return get_model("vllm").create_from_arg_obj(model_args, {"batch_size": "auto"})
    from lm_eval.models.huggingface import HFLM

    model = build_model(config, tokenizer, args.device, dtype_of(args.device))
    return HFLM(pretrained=model, tokenizer=tokenizer, batch_size=args.batch_size)


def dtype_of(device: str) -> Any:
    import torch

    return torch.bfloat16 if device.startswith("cuda") else torch.float32


@contextmanager
def harness_loading(lm: Any) -> Iterator[None]:
    """The harnesses' model loading hands them `lm`; nothing else in them changes."""
    from evaluation.benchmarks.divervalue import harness as divervalue_harness
    from evaluation.benchmarks.navab import harness as navab_harness

    modules = (navab_harness, divervalue_harness)
    saved = [module.load_lm for module in modules]
    for module in modules:
        module.load_lm = lambda spec, device: lm  # type: ignore[assignment]
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.load_lm = original  # type: ignore[assignment]


def run_method(name: str, spec: ModelSpec, release: Path, args: Any) -> tuple[int, float]:
    slug, method = name.split(":")
    start = time.perf_counter()
    result = get_benchmark(slug).evaluate(
        spec, release, methods=[method], device=args.device, max_gen_toks=args.max_gen_toks
    )
    elapsed = time.perf_counter() - start
    return len({sample.uid for sample in result.samples}), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="7b")
    parser.add_argument("--items", type=int, default=1000, help="items per benchmark")
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    parser.add_argument("--backend", choices=["hf", "vllm", "all"], default="all")
    parser.add_argument("--methods", default=",".join(METHODS), help="benchmark:method,...")
    parser.add_argument("--batch-size", type=int, default=32, help="hf backend (vLLM: auto)")
    parser.add_argument("--max-gen-toks", type=int, default=128, help="AJ answer length")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if set(methods) - set(METHODS) or args.items < 1:
        parser.error(f"--methods from {', '.join(METHODS)}; --items at least 1")
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("CUDA is not available here; pass --device cpu (with --preset tiny)")
    say(header(args.device, args.preset))
    backends = ["hf", "vllm"] if args.backend == "all" else [args.backend]
    if "vllm" in backends and (not vllm_available() or args.device == "cpu"):
        say("vllm: skipped (not importable here, or a CPU run)")
        backends.remove("vllm")
    if not backends:
        return 1

    with tempfile.TemporaryDirectory(prefix="gpu-throughput-") as tmp:
        work = Path(tmp)
        os.environ["HF_DATASETS_CACHE"] = str(work / "datasets-cache")
        releases = {
            "navab": navab_release(work / "navab", args.items),
            "divervalue": divervalue_release(work / "divervalue", args.items),
        }
        warm = navab_release(work / "warm-up", 10)
        corpus = [
            str(value)
            for slug, path in releases.items()
            for item in iter_items(path, get_benchmark(slug).items_file)
            for value in item.values()
            if isinstance(value, str)
        ]
        config, tokenizer = build_model_dir(work / "model", args.preset, corpus, "vllm" in backends)
        minutes: dict[tuple[str, str], float] = {}
        for backend in backends:
            spec = ModelSpec(
                pretrained=str(work / "model"),
                kind="vllm" if backend == "vllm" else "hf",
                dtype="bfloat16" if args.device.startswith("cuda") else "float32",
                batch_size=args.batch_size,
            )
            start = time.perf_counter()
            lm = load_lm(backend, spec, config, tokenizer, args)
            say(f"{backend}: model built on {args.device} in {time.perf_counter() - start:.1f} s")
            with harness_loading(lm):
                run_method("navab:mc", spec, warm, args)  # CUDA kernels and caches, untimed
                for name in methods:
                    n, seconds = run_method(name, spec, releases[name.split(":")[0]], args)
                    rate = n / seconds
                    minutes[(backend, name)] = RELEASE_ITEMS / rate / 60
                    say(
                        f"{backend:<4} {name:<15} {n} items in {seconds:8.2f} s: "
                        f"{rate:8.2f} items/s; {RELEASE_ITEMS:,} items: "
                        f"{minutes[(backend, name)]:7.2f} min"
                    )
            del lm
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    for backend in backends:
        if (backend, "navab:mc") in minutes and (backend, "navab:aj") in minutes:
            total = minutes[(backend, "navab:mc")] + minutes[(backend, "navab:aj")]
            if args.preset == "7b" and args.device.startswith("cuda"):
                verdict = "met" if total <= GOAL_MINUTES else "NOT met"
            else:
                verdict = "not assessed (the goal is for --preset 7b on a GPU)"
            say(
                f"goal: {backend} NaVAB MC + AJ on {RELEASE_ITEMS:,} items in {total:.2f} min "
                f"(<= {GOAL_MINUTES:.0f} min, 7B on one H100-class GPU): {verdict}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
