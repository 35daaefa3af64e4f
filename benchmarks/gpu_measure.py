"""One configuration x backend of benchmarks/gpu_throughput.py, run in its own process (so GPU
memory is returned between runs and one failure does not end the others): the shapes and their
parameter counts, items at the published texts' lengths, the model built with random weights on
the device, and the measured run through the harnesses, one printed line per method.

    python benchmarks/gpu_measure.py JOB_JSON   (started by gpu_throughput.py, which writes JOB_JSON)
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL_NAVAB = 63_000  # triples, MC + AJ
FULL_DVB = 23_763  # items, OPA
METHODS = ("navab:mc", "navab:aj", "divervalue:opa")
#: items of the warm-up before each measured run (kernels, caches, and the rate that sizes it)
WARM_ITEMS = 16
#: the fewest items a measured run scores, whatever the budget (fewer say little of a batch)
MIN_ITEMS = 64
#: DiverValue-Bench's published data: about 17 items per user (23,763 items, 1,396 users)
ITEMS_PER_USER = 17

# Shapes of the published models (vocab None: the offline tokenizer's own size).
CONFIGS: dict[str, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": None,
    },
    "7b": {
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "intermediate_size": 11008,
        "vocab_size": 32000,
    },
    "70b": {
        "hidden_size": 8192,
        "num_hidden_layers": 80,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "intermediate_size": 28672,
        "vocab_size": 32000,
    },
}


def say(line: str) -> None:
    print(line, flush=True)


# --- shapes, parameters, MFU ------------------------------------------------------------------


def matmul_params(shape: dict[str, Any], layers: int, vocab: int) -> int:
    """Parameters a token multiplies: attention, MLP and output head (not the input embedding)."""
    h, inter = shape["hidden_size"], shape["intermediate_size"]
    kv = shape["num_key_value_heads"] * h // shape["num_attention_heads"]
    return layers * (2 * h * h + 2 * h * kv + 3 * h * inter) + h * vocab


def total_params(shape: dict[str, Any], layers: int, vocab: int) -> int:
    return matmul_params(shape, layers, vocab) + shape["hidden_size"] * vocab


def billions(params: float) -> str:
    return f"{params / 1e9:.1f}B" if params >= 1e8 else f"{params / 1e6:.2f}M"


def mfu_text(mfu: float | None, device: str) -> str:
    if mfu is not None:
        return f"MFU {mfu:.1%}"
    return "MFU n/a (CPU)" if device == "cpu" else "MFU n/a (peak unknown: --peak-tflops)"


# --- items at published lengths -----------------------------------------------------------------


def _shuffled(text: str, rng: random.Random, words: int | None = None) -> str:
    pieces = text.split()
    if words is not None:
        pieces = [pieces[i % len(pieces)] for i in range(words)]
    rng.shuffle(pieces)
    return " ".join(pieces)


def navab_release(directory: Path, n_items: int) -> Path:
    """N triples with the demo's texts (its nations and modes), words shuffled per item."""
    from evaluation.benchmarks import get_benchmark
    from evaluation.benchmarks.navab.records import TripleRecord, write_release

    navab = get_benchmark("navab")
    demo = navab.read_published(navab.demo_dir).records
    records = []
    for i in range(n_items):
        rng, source = random.Random(i), demo[i % len(demo)].fields
        question = _shuffled(source["question"].rstrip("?"), rng) + "?"
        records.append(
            TripleRecord(
                uid=f"{source['nation']}-{source['mode']}-{i:06d}",
                nation=source["nation"],
                mode=source["mode"],
                question=question,
                statement=_shuffled(source["statement"], rng),
                reverse_statement=_shuffled(source["reverse_statement"], rng),
            )
        )
    write_release(directory, records, {"version": f"throughput-{n_items}"})
    return directory


def divervalue_release(directory: Path, n_items: int) -> Path:
    """N DVB-test items from the demo's profiles and questions, about 17 per user as published,
    answers grown from their own words to 100-300 words."""
    from evaluation.benchmarks import get_benchmark
    from evaluation.benchmarks.divervalue.release import load_items, write_items

    demo = sorted(load_items(get_benchmark("divervalue").demo_dir), key=lambda d: str(d["uid"]))
    items = []
    for i in range(n_items):
        rng, source = random.Random(i), demo[i % len(demo)]
        profile = demo[(i // ITEMS_PER_USER) % len(demo)]
        keep = ("question", "answer_w", "answer_l", "uid", "user_id", "split")
        items.append(
            {
                **{k: v for k, v in profile.items() if k not in keep},
                "question": _shuffled(source["question"].rstrip("?"), rng) + "?",
                "answer_w": _shuffled(source["answer_w"], rng, rng.randint(100, 300)),
                "answer_l": _shuffled(source["answer_l"], rng, rng.randint(100, 300)),
                "uid": f"tp-{i:06d}",
                "user_id": f"tp-user{i // ITEMS_PER_USER:05d}",
                "split": "test",
            }
        )
    write_items(directory, items)
    return directory


RELEASES = {"navab": navab_release, "divervalue": divervalue_release}


# --- one configuration x backend, in its own process --------------------------------------------


@dataclass
class Job:
    """What one child process measures; written to it as JSON."""

    config: str
    backend: str  # hf | vllm
    device: str
    work: str
    items: int
    methods: list[str]
    batch_size: int
    max_gen_toks: int
    layers: int  # of the configuration's; fewer: a slice, extrapolated
    peak_flops: float | None
    deadline: float | None  # time.time() by which its measurements should end
    parity: bool = False  # load a saved model as the site does, keep per-item records
    results: str = ""
    label: str = field(default="")


def tokenizer_for(job: Job, vocab: int | None) -> Any:
    """The offline tokenizer, padded with unused tokens up to the model's vocabulary so every id
    a random model may generate decodes (to text that encodes back to one token)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(Path(job.work) / "tokenizer")
    if vocab and vocab > len(tokenizer):
        tokenizer.add_tokens([f"<unused{i}>" for i in range(len(tokenizer), vocab)])
    return tokenizer


def model_config(job: Job, tokenizer: Any) -> Any:
    from transformers import LlamaConfig

    shape = {**CONFIGS[job.config], "num_hidden_layers": job.layers}
    shape["vocab_size"] = shape["vocab_size"] or len(tokenizer)
    return LlamaConfig(
        **shape,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        architectures=["LlamaForCausalLM"],
    )


def build_model(config: Any, device: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)  # type: ignore[no-untyped-call]
    return model.eval()


def load(job: Job, spec: Any, config: Any, tokenizer: Any) -> Any:
    """The lm-eval LM: for parity the saved model, loaded as the site loads it (`load_lm`, the
    call the harnesses make); otherwise the model built in memory (hf) or vLLM's dummy weights,
    no checkpoint written or read."""
    from evaluation.lm_eval_runner import load_lm

    if job.parity:
        return load_lm(spec, job.device)
    if job.backend == "vllm":
        from lm_eval.api.registry import get_model

        args = {**spec.to_lm_eval_args(), "load_format": "dummy", "seed": 0}
        return get_model("vllm").create_from_arg_obj(args, {"batch_size": "auto"})
    from lm_eval.models.huggingface import HFLM

    model = build_model(config, job.device)
    return HFLM(pretrained=model, tokenizer=tokenizer, batch_size=job.batch_size)


class RequestLog:
    """Records the requests lm-eval hands the LM and the answers it generates, to count their
    tokens after the timed run (tokenizing inside it would slow what is measured).

    The tokens are the work the requests need: each distinct context once (an item's two
    continuations share it: MC's " A"/" B", OPA's two answers, a judge's letters), every
    continuation, every prompt and generated answer. Counting a shared context twice would
    credit a backend for work it rightly skips (lm-eval's transformers backend scores one-token
    continuations of one context in one pass, vLLM caches prefixes) and inflate MFU."""

    def __init__(self, lm: Any) -> None:
        self.contexts: set[str] = set()
        self.continuations: list[str] = []
        self.prompts: list[str] = []
        self.answers: list[str] = []
        loglikelihood, generate = lm.loglikelihood, lm.generate_until

        def logged_loglikelihood(requests: list[Any], *args: Any, **kwargs: Any) -> Any:
            for context, continuation in _args(requests):
                self.contexts.add(context)
                self.continuations.append(continuation)
            return loglikelihood(requests, *args, **kwargs)

        def logged_generate(requests: list[Any], *args: Any, **kwargs: Any) -> Any:
            out = generate(requests, *args, **kwargs)
            self.prompts += [context for context, _ in _args(requests)]
            self.answers += [str(answer) for answer in out]
            return out

        lm.loglikelihood, lm.generate_until = logged_loglikelihood, logged_generate

    def clear(self) -> None:
        self.contexts, self.continuations, self.prompts, self.answers = set(), [], [], []

    def tokens(self, tokenizer: Any, max_gen_toks: int) -> tuple[int, int]:
        """(all tokens, generated tokens); an answer re-encoded may take a token or two more
        than were generated, so it counts at most MAX_GEN_TOKS."""

        def lengths(texts: list[str]) -> list[int]:
            if not texts:
                return []
            return [len(ids) for ids in tokenizer(texts, add_special_tokens=False).input_ids]

        generated = sum(min(n, max_gen_toks) for n in lengths(self.answers))
        scored = sum(lengths(sorted(self.contexts))) + sum(lengths(self.continuations))
        return scored + sum(lengths(self.prompts)) + generated, generated


def _args(requests: list[Any]) -> list[tuple[Any, Any]]:
    return [(request.args[0], request.args[1]) for request in requests]


def run_method(name: str, spec: Any, release: Path, job: Job, bar: bool) -> tuple[Any, float]:
    from tqdm import tqdm

    from evaluation.benchmarks import get_benchmark

    slug, method = name.split(":")
    progress = tqdm(desc=f"{job.label} {name}", file=sys.stderr, disable=not bar, mininterval=2)

    def advance(event: Any) -> None:
        progress.total = event.total
        if event.done > progress.n:
            progress.update(event.done - progress.n)  # drawn at most every mininterval

    start = time.perf_counter()
    result = get_benchmark(slug).evaluate(
        spec,
        release,
        methods=[method],
        device=job.device,
        max_gen_toks=job.max_gen_toks,
        seed=1234,
        progress=advance,
    )
    elapsed = time.perf_counter() - start
    progress.close()
    return result, elapsed


def items_for(seconds: float, small_s: float, job: Job, name: str, spec: Any) -> int:
    """How many items one run scores in SECONDS: from a second warm-up of 4x the first's items,
    the cost of an item apart from the run's fixed cost (tasks built, batches filled), which a
    rate from one small run would take for per-item cost and so size runs far too small."""
    slug, larger = name.split(":")[0], 4 * WARM_ITEMS
    _, large_s = run_method(
        name, spec, RELEASES[slug](job_dir(job) / f"warm-{slug}-4x", larger), job, False
    )
    per_item = max((large_s - small_s) / (larger - WARM_ITEMS), large_s / larger / 20)
    fixed = max(small_s - WARM_ITEMS * per_item, 0.0)
    return max(MIN_ITEMS, int(0.8 * (seconds - fixed) / per_item))


def job_dir(job: Job) -> Path:
    return Path(job.work) / job.label.replace(" ", "-")


def measure(job: Job) -> int:
    """Build the job's model, then per method: a warm-up (CUDA kernels, caches; with a deadline
    a second one, and the two size the measured run to fit), the measured run and its line."""
    from evaluation.spec import ModelSpec

    work = Path(job.work)
    full = CONFIGS[job.config]
    tokenizer = tokenizer_for(job, full["vocab_size"])
    config = model_config(job, tokenizer)
    vocab = config.vocab_size
    # Parity's saved model is shared by its two runs; a measured run's folder holds no weights.
    model_dir = work / f"parity-{job.config}" if job.parity else job_dir(job) / "model"
    if job.parity and job.backend == "hf":
        build_model(config, job.device).save_pretrained(model_dir)  # random weights, once
        tokenizer.save_pretrained(model_dir)
    elif not job.parity:
        config.save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)
    spec = ModelSpec(
        pretrained=str(model_dir),
        kind=job.backend,  # type: ignore[arg-type]
        dtype="bfloat16" if job.device.startswith("cuda") else "float32",
        batch_size=job.batch_size,
    )
    start = time.perf_counter()
    lm = load(job, spec, config, tokenizer)
    say(f"{job.label}: model ready on {job.device} in {time.perf_counter() - start:.1f} s")
    log = RequestLog(lm)
    measured = matmul_params(full, job.layers, vocab)
    scale = matmul_params(full, full["num_hidden_layers"], vocab) / measured
    out: list[dict[str, Any]] = []
    with _given(lm):
        for done, name in enumerate(job.methods):
            slug = name.split(":")[0]
            small = run_method(
                name, spec, RELEASES[slug](job_dir(job) / f"warm-{slug}", WARM_ITEMS), job, False
            )
            n = job.items
            if job.deadline is not None and n > MIN_ITEMS:  # else no run is smaller
                share = (job.deadline - time.time()) / (len(job.methods) - done)
                n = min(n, items_for(share, small[1], job, name, spec))
            release = RELEASES[slug](job_dir(job) / f"{slug}-{n}", n)
            log.clear()
            result, seconds = run_method(name, spec, release, job, bar=True)
            tokens, generated = log.tokens(tokenizer, job.max_gen_toks)
            if not result.samples:  # every item too long for the context: no rate to give
                say(f"{job.label} {name}: no item scored of {n}; no figures")
                continue
            row = {
                "config": job.config,
                "backend": job.backend,
                "method": name,
                "items": len({s.uid for s in result.samples}),
                "seconds": seconds,
                "tokens": tokens,
                "generated": generated,
                "scale": scale,
                "layers": job.layers,
                "mfu": 2 * measured * tokens / seconds / job.peak_flops if job.peak_flops else None,
            }
            if job.parity:
                row["records"] = [
                    {"uid": s.uid, "chosen": s.chosen, **s.details} for s in result.samples
                ]
            out.append(row)
            Path(job.results).write_text(json.dumps(out))
            if not job.parity:
                for line in measurement_lines(row, job.device, full["num_hidden_layers"]):
                    say(line)
    return 0


class _given:
    """The harnesses' model loading hands them the job's LM, loaded once (a harness loads its
    model per evaluation; a second vLLM engine would not fit beside the first)."""

    def __init__(self, lm: Any) -> None:
        from evaluation.benchmarks.divervalue import harness as divervalue_harness
        from evaluation.benchmarks.navab import harness as navab_harness

        self.modules: tuple[Any, ...] = (navab_harness, divervalue_harness)
        self.lm = lm

    def __enter__(self) -> None:
        self.saved = [module.load_lm for module in self.modules]
        for module in self.modules:
            module.load_lm = lambda spec, device: self.lm

    def __exit__(self, *exc: object) -> None:
        for module, original in zip(self.modules, self.saved, strict=True):
            module.load_lm = original


def full_items(method: str) -> int:
    return FULL_DVB if method.startswith("divervalue") else FULL_NAVAB


def measurement_lines(row: dict[str, Any], device: str, full_layers: int) -> list[str]:
    """The measured line, and for a slice the extrapolated one (same format, said so)."""
    n, seconds, tokens = row["items"], row["seconds"], row["tokens"]
    where = f"{row['backend']} {row['config']}"
    sliced = row["layers"] < full_layers
    lines = []
    variants = [("measured", 1.0)] + [("extrapolated", row["scale"])] * sliced
    for kind, factor in variants:
        s = seconds * factor
        label = where + (
            f" ({row['layers']} of {full_layers} layers)" if kind == "measured" and sliced else ""
        )
        note = (
            f" (the {row['layers']}-layer slice x {factor:.2f})" if kind == "extrapolated" else ""
        )
        per_answer = (
            f"; {row['generated'] / n:.0f} generated tokens/item" if row["generated"] else ""
        )
        lines.append(
            f"{kind} {label} {row['method']}: {n} items in {s:.2f} s; {n / s:.2f} items/s; "
            f"{tokens / s:.1f} tokens/s; {mfu_text(row['mfu'], device)}; "
            f"{full_items(row['method']):,} items: {full_items(row['method']) / (n / s) / 60:.2f} min"
            f"{per_answer}{note}"
        )
    return lines


if __name__ == "__main__":
    # Set in this measuring process only, never on import: a test process that imports this
    # module would pass TQDM_DISABLE on to every command it starts (the pipeline's bars).
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    # Fewer of lm-eval's progress bars beside ours: those it leaves to tqdm's defaults (TQDM_*).
    os.environ["TQDM_DISABLE"] = "1"
    sys.exit(measure(Job(**json.loads(sys.argv[1]))))
