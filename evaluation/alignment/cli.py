"""`python -m evaluation dpo-pairs ...` and `python -m evaluation align ...`.

The same commands serve `python -m pipeline dpo-pairs|align RUN_DIR`, which reads its pairs
from a run before Conflict Reduction: the caller says where pairs come from (`add_commands`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.alignment.pairset import PairSet, prepare_pairs, write_pair_set
from evaluation.alignment.source import PairSource, read_release_source
from evaluation.alignment.train import DPOSettings
from evaluation.cli_args import csv_list

MARGINS_FILE = "margins.json"


def _add_pair_arguments(parser: argparse.ArgumentParser, data_help: str) -> None:
    parser.add_argument("data", type=Path, help=data_help)
    parser.add_argument("--nation", required=True, help="a nation code the release holds")
    parser.add_argument(
        "--modes", type=csv_list, default=None, help="e.g. quoted (default: all the release holds)"
    )
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of topics held out")
    parser.add_argument("--seed", type=int, default=0, help="split and training seed")
    parser.add_argument("--out", type=Path, required=True, help="output directory")


def add_commands(
    commands: Any,
    read: Callable[[Path], PairSource] = read_release_source,
    data_help: str = "release directory: pairs and held-out items both come from it",
) -> None:
    """Add the alignment subcommands to a parser's subcommands; READ turns the `data`
    argument into the pairs' source."""
    pairs = commands.add_parser("dpo-pairs", help="write DPO pairs and a held-out release")
    _add_pair_arguments(pairs, data_help)
    pairs.set_defaults(func=_pairs, read=read)

    align = commands.add_parser("align", help="DPO + LoRA toward a nation's statements")
    _add_pair_arguments(align, data_help)
    align.add_argument("--margins", action="store_true", help="measure S-RS margins before/after")
    add_training_arguments(align)
    align.set_defaults(func=_align, read=read)


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


def _prepare(args: argparse.Namespace) -> PairSet:
    source: PairSource = args.read(args.data)
    return prepare_pairs(
        source, args.nation, args.modes, test_fraction=args.test_fraction, seed=args.seed
    )


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{key}={n}" for key, n in counts.items()) or "none"


def _report_pairs(pair_set: PairSet, heldout_dir: Path) -> None:
    summary = pair_set.summary()
    split = pair_set.split.to_dict()
    print(
        f"train pairs: {_counts(summary['train_pairs'])} on {len(split['train']['topics'])} topic(s)"
    )
    print(
        f"held out:    {_counts(summary['test_pairs'])} on {len(split['test']['topics'])} topic(s)"
    )
    print(f"held-out release: {heldout_dir}")


def _pairs(args: argparse.Namespace) -> int:
    pair_set = _prepare(args)
    _report_pairs(pair_set, write_pair_set(pair_set, args.out))
    return 0


def _margins(args: argparse.Namespace, pair_set: PairSet, adapter: Path | None) -> dict[str, Any]:
    from evaluation.alignment.margins import load_scoring_model, measure_margins

    model, tokenizer = load_scoring_model(
        args.model, adapter=adapter, revision=args.revision, device=args.device
    )
    return {
        name: measure_margins(model, tokenizer, pairs).to_dict()
        for name, pairs in (("train", pair_set.train), ("test", pair_set.test))
    }


def _align(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from evaluation.alignment.pairs import pair_counts
    from evaluation.alignment.train import train_dpo

    settings = settings_from_args(args)
    pair_set = _prepare(args)
    heldout_dir = write_pair_set(pair_set, args.out)
    _report_pairs(pair_set, heldout_dir)
    before = _margins(args, pair_set, None) if args.margins else None
    with tqdm(total=0, unit="step", desc="DPO", dynamic_ncols=True) as bar:

        def show(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = train_dpo(
            args.model,
            pair_set.train,
            args.out,
            settings,
            revision=args.revision,
            merge=args.merge,
            device=args.device,
            progress=show,
            counts=pair_counts(pair_set.train),
        )
    last_loss = f"{result.loss_history[-1][1]:.4f}" if result.loss_history else "-"
    print(f"{result.steps} step(s) in {result.seconds:.1f}s, last loss {last_loss}")
    print(f"adapter: {result.adapter_dir}")
    if before is not None:
        after = _margins(args, pair_set, result.adapter_dir)
        margins = {"before": before, "after": after}
        (args.out / MARGINS_FILE).write_text(json.dumps(margins, indent=2) + "\n")
        for side in ("train", "test"):
            print(
                f"{side} margin log p(S) - log p(RS): "
                f"{before[side]['mean']:.4f} -> {after[side]['mean']:.4f}"
            )
    if result.merged_dir is not None:
        print(f"merged model: {result.merged_dir}")
        command = ["python", "-m", "evaluation", "run", "--model", str(result.merged_dir)]
        command += ["--release", str(heldout_dir), "--nations", args.nation]
        command += ["--modes", ",".join(pair_set.modes), "--out", str(args.out / "eval")]
        print(f"evaluate it on the held-out items: {shlex.join(command)}")
    return 0
