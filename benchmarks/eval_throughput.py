"""Throughput of the NaVAB harness against a plain lm-eval CLI run of the same tasks.

Both sides run as fresh processes on the same model, tasks and batch size, and are timed end
to end (start-up, model load, scoring, writing results): first `python -m evaluation run`,
then the stock `lm_eval run` command printed on its reproducibility card, which evaluates the
exact task files the harness exported. Printed: triples per second for each and their ratio
(harness time / lm-eval time; the target is an overhead under 10%, i.e. a ratio below 1.10).

CPU, tiny offline model (default):

    .venv/bin/python benchmarks/eval_throughput.py --per-cell 200

GPU with transformers, any local model directory:

    .venv/bin/python benchmarks/eval_throughput.py --model /models/Qwen2.5-0.5B \\
        --device cuda --dtype bfloat16 --batch-size 32 --per-cell 500

GPU with vLLM (install the `vllm` extra on the worker first; lm-eval's vllm backend picks
its own batches, so pass --batch-size auto):

    .venv/bin/python benchmarks/eval_throughput.py --model /models/Qwen2.5-0.5B --kind vllm \\
        --device cuda --dtype bfloat16 --batch-size auto --per-cell 500

The stock CLI indexes its thousands of built-in task configs at start-up (several seconds), so
on small CPU runs the ratio is well below 1; it becomes meaningful when scoring dominates
(thousands of triples, a real model). With --methods mc,aj the AJ stages (generation, then judging) are timed too, on both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.release import MODES, NATIONS, TripleRecord, write_release  # noqa: E402


def synthetic_release(directory: Path, per_cell: int) -> int:
    records = [
        TripleRecord(
            uid=f"{nation}-{mode}-{i:05d}",
            nation=nation,
            mode=mode,
            question=f"Should the government of {nation} adopt policy number {i} on {mode} matters?",
            statement=f"The government of {nation} supports policy number {i}.",
            reverse_statement=f"The government of {nation} opposes policy number {i}.",
        )
        for nation in NATIONS
        for mode in MODES
        for i in range(per_cell)
    ]
    write_release(directory, records, {"version": "benchmark"})
    return len(records)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"command failed ({done.returncode}): {shlex.join(argv)}\n{done.stderr[-4000:]}")
    return elapsed


def stock_argv(command: str) -> list[str]:
    argv = shlex.split(command)
    return (
        [sys.executable, "-m", "lm_eval", *argv[1:]]
        if argv[0] == "lm_eval"
        else [
            sys.executable,
            *argv[1:],
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: a tiny GPT-2)")
    parser.add_argument("--kind", choices=["hf", "vllm"], default="hf")
    parser.add_argument("--per-cell", type=int, default=100, help="triples per nation x mode")
    parser.add_argument("--batch-size", default="16")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--methods", default="mc")
    parser.add_argument("--max-gen-toks", type=int, default=16)
    args = parser.parse_args()

    env = dict(
        os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false"
    )
    with tempfile.TemporaryDirectory(prefix="navab-bench-") as tmp:
        work = Path(tmp)
        model = args.model
        if model is None:
            from tests.tiny_models import build_tiny_model

            model = build_tiny_model(work / "tiny-gpt2")
        n = synthetic_release(work / "release", args.per_cell)
        out = work / "run"
        ours = timed(
            [
                sys.executable, "-m", "evaluation", "run", "--kind", args.kind,
                "--model", str(model), "--dtype", args.dtype, "--batch-size", args.batch_size,
                "--device", args.device, "--methods", args.methods,
                "--max-gen-toks", str(args.max_gen_toks),
                "--release", str(work / "release"), "--out", str(out),
            ],
            env,
        )  # fmt: skip
        card = json.loads((out / "results.json").read_text())["card"]
        # Our export commands are already done (the run exported the same files); time only the
        # stock lm_eval runs.
        stock = sum(
            timed(stock_argv(command), env)
            for command in card["lm_eval_commands"]
            if command.startswith("lm_eval ")
        )

    methods = args.methods.split(",")
    print(f"model: {model} ({args.kind}, {args.dtype}, batch {args.batch_size}, {args.device})")
    print(f"triples: {n} ({args.per_cell} per nation x mode), methods: {', '.join(methods)}")
    print(f"harness   : {ours:8.2f} s  {n / ours:8.1f} triples/s")
    print(f"lm-eval   : {stock:8.2f} s  {n / stock:8.1f} triples/s")
    ratio = ours / stock
    verdict = "within" if ratio < 1.10 else "OVER"
    print(f"ratio     : {ratio:.3f} (harness / lm-eval; {verdict} the 10% overhead target)")


if __name__ == "__main__":
    main()
