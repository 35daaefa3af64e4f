"""NaVAB's `dpo-pairs` and `align` commands toward one nation, with S-RS margins before and
after: `python -m pipeline dpo-pairs|align RUN_DIR` reads its pairs from a run before Conflict
Reduction (the caller says where pairs come from: `add_commands`). Any benchmark, NaVAB
included, aligns from a release folder with `python -m evaluation align`.
"""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.alignment.cli import add_training_arguments, settings_from_args
from evaluation.benchmarks.navab.alignment.pairset import PairSet, prepare_pairs, write_pair_set
from evaluation.benchmarks.navab.alignment.source import PairSource
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


def add_commands(commands: Any, read: Callable[[Path], PairSource], data_help: str) -> None:
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
    from evaluation.benchmarks.navab.alignment.margins import load_scoring_model, measure_margins

    model, tokenizer = load_scoring_model(
        args.model, adapter=adapter, revision=args.revision, device=args.device
    )
    return {
        name: measure_margins(model, tokenizer, pairs).to_dict()
        for name, pairs in (("train", pair_set.train), ("test", pair_set.test))
    }


def _align(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from evaluation.alignment.train import train_dpo
    from evaluation.benchmarks.navab.alignment.pairs import pair_counts

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
        command = ["python", "-m", "evaluation", "run", "--benchmark", "navab"]
        command += ["--model", str(result.merged_dir), "--release", str(heldout_dir)]
        command += [
            "--slice",
            f"nation={args.nation}",
            "--slice",
            f"mode={','.join(pair_set.modes)}",
        ]
        command += ["--out", str(args.out / "eval")]
        print(f"evaluate it on the held-out items: {shlex.join(command)}")
    return 0
