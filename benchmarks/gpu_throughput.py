"""GPU throughput of the site's scoring: a 7B and a 70B-class Llama with random weights, built on
the device (no download), scored by the harnesses as a worker runs them, on both backends.

For each configuration (`7b`: Llama-2-7B's shape; `70b`: Llama-2-70B's; `tiny` for CPU tests)
and backend (`hf`: lm-eval's transformers backend around the model built in memory; `vllm`, when
importable: lm-eval's vLLM backend with `load_format=dummy` on a folder holding only the config
and tokenizer), it runs NaVAB MC and AJ and DiverValue-Bench OPA through `benchmark.evaluate`
(the lm-eval tasks and request building of `evaluation/lm_eval_runner.py`; only model loading is
replaced) and prints items/s, tokens/s, model FLOPs utilisation and the minutes for a full NaVAB
(63,000 triples, MC + AJ) and a full DiverValue-Bench (23,763 items, OPA), beside the issue's
goals for a 7B model on one H100-class GPU.

- Items have the published texts' lengths: NaVAB's demo triples, DiverValue-Bench's demo items
  with answers grown to 100-300 words (PRISM's), each item's words shuffled by its index so no
  two prompts repeat (vLLM's prefix cache would otherwise score repeats for free). The tokenizer
  is a BPE trained offline on those texts, sized to split them as Llama 2's does (about 1.3
  tokens a word, printed), padded with unused tokens to the model's vocabulary.
- tokens: the tokens the requests need computed, counted after the timed run: each distinct
  context once (an item's two continuations share it) and every continuation; every prompt and
  generated answer. MFU = 2 x parameters x tokens / seconds / the card's dense bf16 peak (H100
  SXM and H200: 989 TFLOPS), with parameters those a token multiplies (all but the input
  embedding table, a lookup). A shared context counts once whatever the backend does with it,
  so neither backend's reuse (vLLM's prefix cache, lm-eval's one pass for one-token
  continuations) inflates it. Not applicable on a CPU.
- Random weights never emit AJ's stop sequences, so every answer runs to --max-gen-toks (the
  site's default, 128): AJ's figure is a worst case.
- A model one GPU cannot hold (70B: 138 GB of bf16 weights) is measured on one GPU as the most
  of its layers that fit (`evaluation/capacity.py`'s memory formula), or the layers --slice
  names; its full figures are extrapolated by parameters (time x full / slice, the same MFU),
  printed as "extrapolated" beside the measured line, with the layout capacity.py gives the
  whole model on an 8-GPU worker (not run across GPUs here: a figure for one GPU's compute).
- Parity (with vLLM): a model of the 7B's shape cut to 4 layers, random weights saved once, is
  loaded by each backend as the site loads it (`load_lm`) and scores the same items: per method
  the share with the same choice, the largest and median log-likelihood difference, and how far
  apart the two choices were where the backends chose differently (rounding flips near-ties).

Each configuration x backend runs in its own process (GPU memory is returned between them, and
one failure does not end the run); lines are flushed as measured, so a run cut short keeps them.
--budget-min sizes each run's items from a short warm-up so the whole run fits; --quick is a
short run for a lent GPU (about 8 minutes on an H100, model builds included).

    python benchmarks/gpu_throughput.py --quick
    python benchmarks/gpu_throughput.py --configs 7b,70b --items 2000 --budget-min 30
    python benchmarks/gpu_throughput.py --configs tiny --device cpu --items 8
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, replace
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")

from benchmarks.gpu_measure import (  # noqa: E402
    CONFIGS,
    FULL_DVB,
    FULL_NAVAB,
    METHODS,
    RELEASES,
    Job,
    billions,
    full_items,
    mfu_text,
    say,
    total_params,
)
from evaluation.capacity import Capacity, explain_need, memory_need_gb, plan_layout  # noqa: E402
from evaluation.spec import vllm_available  # noqa: E402

LOGLIKELIHOOD_METHODS = ("navab:mc", "divervalue:opa")
GOAL_MC_MIN, GOAL_MC_AJ_MIN, GOAL_MFU = 5.0, 30.0, 0.40
#: dense bf16 peak, TFLOPS, by a substring of the CUDA device name (first match wins)
PEAK_BF16_TFLOPS = (("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H100", 989.0), ("H200", 989.0))
#: the offline BPE's vocabulary: 1.34 tokens a word on the items' text, as Llama 2 on English
TOKENIZER_VOCAB = 2400
#: the parity model on a GPU: the 7B's shape cut to this many layers (CPU: the tiny one)
PARITY_LAYERS = 4


def layers_that_fit(shape: dict[str, Any], vocab: int, memory_gb: float) -> int:
    """The most layers whose bf16 weights plus capacity.py's margin fit in MEMORY_GB."""
    layers = shape["num_hidden_layers"]
    while layers > 1 and memory_need_gb(total_params(shape, layers, vocab), "bfloat16") > memory_gb:
        layers -= 1
    return layers


def peak_flops(device_name: str, override_tflops: float | None) -> float | None:
    if override_tflops:
        return override_tflops * 1e12
    for key, tflops in PEAK_BF16_TFLOPS:
        if key in device_name:
            return tflops * 1e12
    return None


# --- the run: device, jobs, parity, summary -----------------------------------------------------

_PROBE = (
    "import json, torch\n"
    "p = torch.cuda.get_device_properties(torch.device(DEVICE))\n"
    "print(json.dumps([p.name, p.total_memory, torch.cuda.device_count(), torch.version.cuda]))\n"
)


def probe(device: str) -> tuple[str, float, int, str]:
    """The CUDA device's name, memory (GiB), visible GPUs and CUDA version, read in a child
    process so this one never holds a CUDA context (vLLM wants the GPU's memory free)."""
    code = _PROBE.replace("DEVICE", repr(device))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    name, memory, count, cuda = json.loads(out.stdout)
    return str(name), memory / 2**30, int(count), str(cuda)


def header(device: str, where: str) -> str:
    import lm_eval
    import torch
    import transformers

    vllm = metadata.version("vllm") if vllm_available() else "not installed"
    return (
        f"device {where}; torch {torch.__version__}, transformers {transformers.__version__}, "
        f"lm_eval {lm_eval.__version__}, vllm {vllm}"
    )


def train_tokenizer(work: Path) -> int:
    """The offline BPE, trained on items at the published lengths and saved for every run; its
    size. Its vocabulary is sized so English words take as many tokens as Llama 2's tokenizer
    gives them (about 1.3 a word), so the items' token counts are the real model's."""
    from evaluation.tiny_models import build_tokenizer

    corpus = []
    for slug, write in RELEASES.items():
        release = write(work / f"corpus-{slug}", 300)
        for path in release.glob("*.jsonl"):
            for line in path.read_text().splitlines():
                corpus += [str(v) for v in json.loads(line).values() if isinstance(v, str)]
    tokenizer = build_tokenizer(vocab_size=TOKENIZER_VOCAB, corpus=corpus)
    tokenizer.save_pretrained(work / "tokenizer")
    words = sum(len(text.split()) for text in corpus)
    tokens = sum(map(len, tokenizer(corpus, add_special_tokens=False).input_ids))
    say(f"tokenizer: {len(tokenizer):,} tokens, {tokens / words:.2f} a word on the items' text")
    return len(tokenizer)


def plan_slice(name: str, vocab: int, memory_gib: float | None, forced: int | None) -> int:
    """How many of the configuration's layers are measured, saying why where fewer than all:
    FORCED (--slice), else the most the device holds by capacity.py's formula."""
    shape = CONFIGS[name]
    vocab = shape["vocab_size"] or vocab
    full = shape["num_hidden_layers"]
    params = total_params(shape, full, vocab)
    need = memory_need_gb(params, "bfloat16")
    layers = full
    if forced is not None:
        layers = max(1, min(forced, full))
        why = "as --slice asked"
    elif memory_gib is not None and need > memory_gib:
        layers = layers_that_fit(shape, vocab, memory_gib)
        why = "as many as one GPU holds"
    if layers == full:
        return full
    say(
        f"{name}: measuring {layers} of its {full} layers "
        f"({billions(total_params(shape, layers, vocab))} of {billions(params)} parameters) "
        f"on one device, {why}; its full figures are extrapolated by parameters at the "
        f"slice's MFU (one GPU's compute)"
    )
    if memory_gib is not None and need > memory_gib:
        node = Capacity(8, memory_gib)
        layout = plan_layout(need, node, "vllm") if node.holds(need) else None
        on_node = (
            f"an {node.name} worker runs it {layout.describe('vllm')} (evaluation/capacity.py)"
            if layout
            else f"no {node.name} worker holds it"
        )
        say(
            f"{name}: {explain_need(params, 'bfloat16')}: more than one {memory_gib:.0f} GiB "
            f"GPU holds; {on_node}; not run across GPUs here"
        )
    return layers


def run_job(job: Job, stop_at: float | None) -> tuple[list[dict[str, Any]], bool]:
    """JOB in its own process (benchmarks/gpu_measure.py), its lines passed on as they come;
    what it measured, also where it failed or was stopped at STOP_AT (the run's end), and
    whether it failed."""
    Path(job.results).unlink(missing_ok=True)
    measure = Path(__file__).with_name("gpu_measure.py")
    # Its own process group: vLLM's engine runs in processes of its own, stopped with it.
    child = subprocess.Popen(
        [sys.executable, str(measure), json.dumps(asdict(job))],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        os.killpg(child.pid, signal.SIGKILL)

    timer = threading.Timer(max(1.0, stop_at - time.time()), stop) if stop_at else None
    if timer is not None:
        timer.start()
    assert child.stdout is not None
    for line in child.stdout:
        say(line.rstrip("\n"))
    child.wait()
    if timer is not None:
        timer.cancel()
    failed = False
    if stopped.is_set():
        say(f"{job.label}: stopped by the wall-time budget; the lines above stand")
    elif child.returncode != 0:
        say(f"{job.label}: failed (exit {child.returncode}); its error is above")
        failed = True
    path = Path(job.results)
    return (list(json.loads(path.read_text())) if path.exists() else []), failed


def compare(hf: list[dict[str, Any]], vllm: list[dict[str, Any]]) -> list[str]:
    """Per method: the items both scored, the share with the same choice, the largest and the
    median log-likelihood difference, and how close the two choices were (on the backend where
    they were closer) on the items chosen differently: a flip within the numbers' difference is
    rounding (bf16, other kernels), a wider one a different computation."""
    lines = []
    for mine in hf:
        theirs = next((row for row in vllm if row["method"] == mine["method"]), None)
        if theirs is None:
            continue
        a = {r["uid"]: r for r in mine["records"]}
        b = {r["uid"]: r for r in theirs["records"]}
        both = sorted(a.keys() & b.keys())
        diffs = sorted(
            abs(a[u]["loglikelihoods"][k] - b[u]["loglikelihoods"][k])
            for u in both
            for k in a[u]["loglikelihoods"]
        )
        other = [u for u in both if a[u]["chosen"] != b[u]["chosen"]]
        text = (
            f"parity {mine['method']}: {len(both)} items, the same choice on "
            f"{len(both) - len(other)} ({(len(both) - len(other)) / max(len(both), 1):.1%}); "
            f"|log-likelihood difference| max {max(diffs, default=0.0):.4f}, median "
            f"{median(diffs) if diffs else 0.0:.4f}"
        )
        if other:
            closest = max(min(_gap(a[u]), _gap(b[u])) for u in other)
            text += f"; the items chosen differently were at most {closest:.4f} apart"
        if any("answer" in a[u] for u in both):
            equal = sum(a[u].get("answer") == b[u].get("answer") for u in both)
            text += f"; the same generated answer on {equal} (a judged choice follows its answer)"
        lines.append(text)
    return lines


def _gap(record: dict[str, Any]) -> float:
    first, second = list(record["loglikelihoods"].values())[:2]
    return float(abs(first - second))


def _verdict(ok: bool, assessed: bool) -> str:
    if not assessed:
        return "not assessed (the goals are for the 7b configuration on one H100-class GPU)"
    return "met" if ok else "NOT met"


def summary(rows: list[dict[str, Any]], device: str) -> list[str]:
    """Full-run minutes per configuration x backend (extrapolated for a slice), the goals
    beside them."""
    lines = []
    keyed = {(r["config"], r["backend"], r["method"]): r for r in rows}
    for config, backend in dict.fromkeys((r["config"], r["backend"]) for r in rows):
        mine = {m: r for (c, b, m), r in keyed.items() if (c, b) == (config, backend)}
        minutes = {
            m: full_items(m) * r["seconds"] * r["scale"] / r["items"] / 60 for m, r in mine.items()
        }
        where = f"{backend} {config}" + (
            " (extrapolated)" if any(r["scale"] > 1 for r in mine.values()) else ""
        )
        assessed = config == "7b" and device.startswith("cuda")
        navab = [minutes[m] for m in ("navab:mc", "navab:aj") if m in minutes]
        if len(navab) == 2:
            lines.append(
                f"full {where}: NaVAB ({FULL_NAVAB:,} triples) MC + AJ {sum(navab):.2f} min"
            )
        if "divervalue:opa" in minutes:
            lines.append(
                f"full {where}: DiverValue-Bench ({FULL_DVB:,} items) OPA "
                f"{minutes['divervalue:opa']:.2f} min"
            )
        if "navab:mc" in minutes:
            mc = minutes["navab:mc"]
            lines.append(
                f"goal {where} NaVAB MC {mc:.2f} min (<= {GOAL_MC_MIN:g} min): "
                f"{_verdict(mc <= GOAL_MC_MIN, assessed)}"
            )
        if len(navab) == 2:
            lines.append(
                f"goal {where} NaVAB MC + AJ {sum(navab):.2f} min (<= {GOAL_MC_AJ_MIN:g} min): "
                f"{_verdict(sum(navab) <= GOAL_MC_AJ_MIN, assessed)}"
            )
        mfus = [(m, mine[m]["mfu"]) for m in LOGLIKELIHOOD_METHODS if m in mine]
        if mfus:
            known = [v for _, v in mfus if v is not None]
            shown = ", ".join(f"{m} {mfu_text(v, device)}" for m, v in mfus)
            ok = len(known) == len(mfus) and min(known) >= GOAL_MFU
            lines.append(
                f"goal {where} log-likelihood {shown} (>= {GOAL_MFU:.0%}): "
                f"{_verdict(ok, assessed and len(known) == len(mfus))}"
            )
    return lines


QUICK = {"configs": "7b,70b", "items": 400, "budget_min": 7.5, "slice": "70b=8", "parity_items": 48}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    quick = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items())
    parser.add_argument("--quick", action="store_true", help=f"the short run: {quick}")
    parser.add_argument("--configs", default="7b,70b", help=f"from {', '.join(CONFIGS)}")
    parser.add_argument("--items", type=int, default=2000, help="items per method (at most)")
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    parser.add_argument("--backends", default="hf,vllm", help="hf, vllm or both")
    parser.add_argument("--methods", default=",".join(METHODS), help="benchmark:method,...")
    parser.add_argument("--batch-size", type=int, default=32, help="hf backend (vLLM: auto)")
    parser.add_argument("--max-gen-toks", type=int, default=128, help="AJ answer length")
    parser.add_argument("--budget-min", type=float, default=None, help="wall time of the run")
    parser.add_argument(
        "--slice",
        default=None,
        help="CONFIG=LAYERS: measure that many of a configuration's layers and extrapolate "
        "(default: all that one device holds)",
    )
    parser.add_argument(
        "--parity-items",
        type=int,
        default=64,
        help="items per method of the parity check (0: none)",
    )
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="the card's dense bf16 peak, for MFU"
    )
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    for name, known in (("configs", CONFIGS), ("methods", METHODS), ("backends", ("hf", "vllm"))):
        chosen = [part.strip() for part in getattr(args, name).split(",") if part.strip()]
        if not chosen or set(chosen) - set(known):
            parser.error(f"--{name} from {', '.join(known)}")
        setattr(args, name, chosen)
    if args.items < 1 or args.parity_items < 0:
        parser.error("--items at least 1, --parity-items at least 0")
    if args.budget_min is not None and not args.budget_min > 0:
        parser.error("--budget-min above 0")
    args.slices = {}
    if args.slice:
        config, _, layers = args.slice.partition("=")
        if config not in CONFIGS or not layers.isdigit() or int(layers) < 1:
            parser.error("--slice CONFIG=LAYERS, e.g. 70b=8")
        args.slices[config] = int(layers)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("CUDA is not available here; pass --device cpu (with --configs tiny)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    start = time.time()
    stop_at = None if args.budget_min is None else start + 60 * args.budget_min
    cuda = args.device.startswith("cuda")
    memory, where, peak = None, args.device, None
    if cuda:
        name, memory, count, version = probe(args.device)
        peak = peak_flops(name, args.peak_tflops)
        where = f"{args.device} ({name}, {memory:.0f} GiB, {count} visible, CUDA {version})"
    say(header(args.device, where))
    backends = list(args.backends)
    if "vllm" in backends and not vllm_available():
        say("vllm: vLLM not installed; its figures are skipped")
        backends.remove("vllm")
    elif "vllm" in backends and not cuda:
        say("vllm: skipped on the CPU (the site runs vLLM on GPU workers)")
        backends.remove("vllm")
    if "vllm" not in backends or "hf" not in backends or not args.parity_items:
        why = "vLLM not installed" if not vllm_available() else "it needs both backends on a GPU"
        say(f"parity: skipped ({why if args.parity_items else '--parity-items 0'})")
    if not backends:
        return 1
    failures = 0
    with tempfile.TemporaryDirectory(prefix="gpu-throughput-") as tmp:
        work = Path(tmp)
        os.environ["HF_DATASETS_CACHE"] = str(work / "datasets-cache")
        vocab = train_tokenizer(work)
        base = Job(
            config="", backend="", device=args.device, work=str(work), items=args.items,
            methods=args.methods, batch_size=args.batch_size, max_gen_toks=args.max_gen_toks,
            layers=0, peak_flops=peak, deadline=None,
        )  # fmt: skip
        jobs = []
        for i, config in enumerate(args.configs):
            layers = plan_slice(config, vocab, memory, args.slices.get(config))
            jobs += [replace(base, config=config, backend=b, layers=layers) for b in backends]
            if i == 0 and args.parity_items and set(backends) == {"hf", "vllm"}:
                small = PARITY_LAYERS if cuda else CONFIGS["tiny"]["num_hidden_layers"]
                parity = replace(
                    base, config="7b" if cuda else "tiny", layers=small, parity=True,
                    items=args.parity_items,
                )  # fmt: skip
                jobs += [replace(parity, backend="hf"), replace(parity, backend="vllm")]
        # vLLM's start-up (compilation, CUDA graphs) takes about as long as a measured run.
        weights = [2.0 if job.backend == "vllm" else 1.0 for job in jobs]
        rows: list[dict[str, Any]] = []
        parity_rows: dict[str, list[dict[str, Any]]] = {}
        for i, job in enumerate(jobs):
            job.label = f"{job.backend} {job.config}" + (" parity" if job.parity else "")
            job.results = str(work / f"results-{i}.json")
            if stop_at is not None:
                left = stop_at - time.time()
                if left < 30:
                    say(f"{job.label}: skipped, the wall-time budget is spent")
                    continue
                job.deadline = time.time() + left * weights[i] / sum(weights[i:])
            measured, failed = run_job(job, stop_at)
            failures += failed
            if job.parity:
                parity_rows[job.backend] = measured
            else:
                rows += measured
        if parity_rows.get("hf") and parity_rows.get("vllm"):
            for line in compare(parity_rows["hf"], parity_rows["vllm"]):
                say(line)
        for line in summary(rows, args.device):
            say(line)
    say(
        f"done in {(time.time() - start) / 60:.1f} min"
        + (f"; {failures} run(s) failed" if failures else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
