"""`python -m evaluation align`: DPO + LoRA toward any benchmark's population, as its
declaration says (`BenchmarkDefinition.alignment`, `plan_alignment`, `dpo_pairs`): what the site's
alignment jobs do, from a release folder on a notebook or a GPU box.

    python -m evaluation align --benchmark divervalue RELEASE \\
        --slice gender=Female --model PATH --out OUT

A `--slice` on one of the declared target dimensions names the population; one on a narrowing
dimension (NaVAB's mode) keeps only those values. It writes OUT/plan.json (the target, the
split, what trains and what is scored), the training pairs, OUT/heldout (a release of the items
to score base and aligned model on) and the adapter, then prints how to score both on those
items with the stock tools.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluation.alignment.train import DPOSettings, PreferencePair, benchmark_settings
from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.contract import BenchmarkDefinition, StockCommand
from evaluation.cli_args import add_benchmark_arguments, csv_list, slice_values
from evaluation.release import write_benchmark_release

PLAN_FILE = "plan.json"
TRAIN_PAIRS_FILE = "train_pairs.jsonl"
HELDOUT_DIR = "heldout"


def add_align_command(commands: Any) -> None:
    command = commands.add_parser(
        "align", help="DPO + LoRA toward a benchmark's population (its declaration)"
    )
    command.add_argument("data", type=Path, help="the release: published layout or site export")
    add_benchmark_arguments(command, "the population, e.g. gender=Female, nation=us")
    command.add_argument("--test-fraction", type=float, default=0.2, help="where it applies")
    command.add_argument("--seed", type=int, default=0, help="split and training seed")
    command.add_argument("--out", type=Path, required=True, help="output directory")
    command.add_argument("--pairs-only", action="store_true", help="write the data, train nothing")
    add_training_arguments(command)
    command.set_defaults(func=align)


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The base model and the DPO/LoRA settings; a setting left out keeps its default (the
    site's, or the benchmark's published one where a command reads a declaration)."""
    parser.add_argument("--model", required=True, help="base model: hub id or local path")
    parser.add_argument("--revision", help="40-hex commit (required for hub ids)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--merge", action="store_true", help="also save the merged model")
    for flag, setting, kind in SETTING_FLAGS:
        parser.add_argument(flag, type=kind, dest=setting)
    parser.add_argument(
        "--target-modules", type=csv_list, help="default: peft's for the architecture"
    )
    parser.add_argument("--gradient-checkpointing", action="store_true")


# flag, DPOSettings field, type
SETTING_FLAGS: tuple[tuple[str, str, type], ...] = (
    ("--lr", "learning_rate", float),
    ("--epochs", "num_train_epochs", float),
    ("--max-steps", "max_steps", int),
    ("--batch-size", "batch_size", int),
    ("--grad-accum", "gradient_accumulation_steps", int),
    ("--warmup-ratio", "warmup_ratio", float),
    ("--beta", "beta", float),
    ("--lora-r", "lora_r", int),
    ("--lora-alpha", "lora_alpha", int),
    ("--lora-dropout", "lora_dropout", float),
    ("--max-length", "max_length", int),
    ("--max-prompt-length", "max_prompt_length", int),
)


def settings_from_args(args: argparse.Namespace, base: DPOSettings | None = None) -> DPOSettings:
    """BASE (default: the site's defaults) with the settings the command line gave."""
    given: dict[str, Any] = {
        setting: getattr(args, setting)
        for _, setting, _ in SETTING_FLAGS
        if getattr(args, setting) is not None
    }
    if args.target_modules:
        given["target_modules"] = tuple(args.target_modules)
    return dataclasses.replace(
        base or DPOSettings(),
        **given,
        gradient_checkpointing=args.gradient_checkpointing,
        seed=args.seed,
    )


def read_items(benchmark: BenchmarkDefinition, path: Path) -> list[dict[str, Any]]:
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


def target_and_narrowing(
    benchmark: BenchmarkDefinition, slices: Mapping[str, Sequence[str]]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Split `--slice` values into the alignment's target (one value of a declared target
    dimension) and the values narrowing its training items; ValueError for anything else."""
    declaration = benchmark.alignment
    if declaration is None:
        raise ValueError(f"{benchmark.name} offers no alignment")
    target: dict[str, str] = {}
    narrow: dict[str, list[str]] = {}
    for key, values in slices.items():
        if key in declaration.targets:
            if len(values) != 1:
                raise ValueError(f"--slice {key}=... names one target value, not {list(values)}")
            target[key] = values[0]
        elif key in declaration.narrowing:
            narrow[key] = list(values)
        else:
            offered = ", ".join((*declaration.targets, *declaration.narrowing))
            raise ValueError(f"{benchmark.name} aligns along {offered}, not {key!r}")
    benchmark.check_alignment_target(target)
    return target, narrow


def _pair_dict(pair: PreferencePair) -> dict[str, Any]:
    """A pair as a line of the pairs file: its own fields where it says them (`to_dict`),
    else the three DPO trains on."""
    to_dict = getattr(pair, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    return {"prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected}


def align(args: argparse.Namespace) -> int:
    benchmark = get_benchmark(args.benchmark)
    target, narrow = target_and_narrowing(benchmark, slice_values(args.slice))
    items = read_items(benchmark, args.data)
    plan = benchmark.plan_alignment(
        items,
        items,
        target,
        narrow=narrow or None,
        test_fraction=args.test_fraction,
        seed=args.seed,
    )
    settings = settings_from_args(args, benchmark_settings(benchmark, {}))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    pairs = benchmark.dpo_pairs(plan.train)
    with (out / TRAIN_PAIRS_FILE).open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(_pair_dict(pair), ensure_ascii=False) + "\n")
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
        "target": target,
        "narrowing": narrow,
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
