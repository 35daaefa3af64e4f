"""`python -m evaluation align-population`: DPO + LoRA toward any benchmark's population, as
its declaration says (`Benchmark.alignment`, `plan_alignment`): what the site's alignment jobs
do, from a release folder on a notebook or a GPU box.

    python -m evaluation align-population --benchmark divervalue RELEASE \\
        --target gender=Female --model PATH --out OUT

writes OUT/plan.json (the target, the split, what trains and what is scored), the training
pairs, OUT/heldout (a release of the items to score base and aligned model on) and the
adapter, then prints how to score both on those items with the stock tools.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from evaluation.alignment.cli import add_training_arguments, settings_from_args
from evaluation.alignment.pairset import HELDOUT_DIR, TRAIN_PAIRS_FILE
from evaluation.alignment.train import benchmark_settings
from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import Benchmark, StockCommand
from evaluation.release import write_benchmark_release

PLAN_FILE = "plan.json"


def add_population_command(commands: Any) -> None:
    command = commands.add_parser(
        "align-population", help="DPO + LoRA toward a benchmark's population (its declaration)"
    )
    command.add_argument("data", type=Path, help="the release: published layout or site export")
    command.add_argument("--benchmark", required=True, help="a registered benchmark's slug")
    command.add_argument(
        "--target", required=True, metavar="DIM=VALUE", help="e.g. gender=Female, region=Africa"
    )
    command.add_argument("--test-fraction", type=float, default=0.2, help="where it applies")
    command.add_argument("--seed", type=int, default=0, help="split and training seed")
    command.add_argument("--out", type=Path, required=True, help="output directory")
    command.add_argument("--pairs-only", action="store_true", help="write the data, train nothing")
    add_training_arguments(command)
    command.set_defaults(func=align_population)


def read_items(benchmark: Benchmark, path: Path) -> list[dict[str, Any]]:
    """The release's items by the benchmark's field names; ValueError listing the first
    problems where its reader found any."""
    read = benchmark.read_published(Path(path))
    if read.problems:
        shown = "; ".join(f"{p.file}[{p.index}] {p.reason}" for p in read.problems[:5])
        raise ValueError(f"{path}: {len(read.problems)} problem(s) in the release: {shown}")
    if not read.records:
        raise ValueError(f"{path}: no {benchmark.item_noun_plural} found")
    fields = {d.key: d.field for d in benchmark.slices}
    return [
        {
            **r.fields,
            **{fields[key]: value for key, value in r.slice.items() if key in fields},
            "uid": r.uid,
        }
        for r in read.records
    ]


def _target(text: str) -> dict[str, str]:
    dimension, _, value = text.partition("=")
    if not dimension or not value:
        raise ValueError(f"--target must be DIM=VALUE, got {text!r}")
    return {dimension.strip(): value.strip()}


def align_population(args: argparse.Namespace) -> int:
    benchmark = get_benchmark(args.benchmark)
    items = read_items(benchmark, args.data)
    plan = benchmark.plan_alignment(
        items, items, _target(args.target), test_fraction=args.test_fraction, seed=args.seed
    )
    settings = settings_from_args(args, benchmark_settings(benchmark, {}))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    pairs = benchmark.dpo_pairs(plan.train)
    with (out / TRAIN_PAIRS_FILE).open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair.to_dict(), ensure_ascii=False) + "\n")
    scored = set(plan.evaluate_uids)
    heldout = out / HELDOUT_DIR
    write_benchmark_release(
        heldout,
        benchmark,
        (item for item in items if item["uid"] in scored),
        {"version": f"{benchmark.slug}-heldout-{args.seed}", "source": "alignment-heldout"},
    )
    record = {
        "benchmark": benchmark.slug,
        "target": _target(args.target),
        "counts": dict(plan.counts),
        "summary": [list(line) for line in plan.summary],
        "split": dict(plan.split),
        "settings": settings.to_dict(),
    }
    (out / PLAN_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    for label, text in plan.summary:
        print(f"{label}: {text}")
    print(f"training pairs: {len(pairs)}; held-out release: {heldout}")
    if args.pairs_only:
        return 0
    from evaluation.alignment.train import train_dpo

    result = train_dpo(
        args.model,
        pairs,
        out,
        settings,
        revision=args.revision,
        merge=args.merge,
        device=args.device,
        counts=plan.counts,
    )
    last = f"{result.loss_history[-1][1]:.4f}" if result.loss_history else "-"
    print(f"{result.steps} step(s) in {result.seconds:.1f}s, last loss {last}")
    print(f"adapter: {result.adapter_dir}")
    if result.merged_dir is not None:
        print(f"merged model: {result.merged_dir}")
    # Base and aligned are compared on the same held-out items, with the stock tools.
    steps = benchmark.stock_commands(str(heldout), "tasks", seed=args.seed, max_gen_toks=128)
    if not steps:
        export = ["python", "-m", "evaluation", "export-tasks", "--benchmark", benchmark.slug]
        steps = [StockCommand("export its tasks", shlex.join([*export, str(heldout), "tasks"]))]
    print("score base and aligned model on the held-out items (ORG/MODEL: each in turn):")
    for step in steps:
        print(f"  {step.label}: {step.command}")
    return 0
