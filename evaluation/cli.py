"""Command line: `python -m evaluation run|export-tasks|align --benchmark SLUG [--slice DIM=V]...`.

Each command dispatches to the named benchmark through its contract (`BenchmarkDefinition.evaluate`,
`export_tasks`, `plan_alignment` and `dpo_pairs`), so a registered benchmark works here with
no code written for it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.alignment.cli import add_align_command
from evaluation.cli_args import add_benchmark_arguments, csv_list, slice_values
from evaluation.errors import ModelError, ProviderBusy, SetupError
from evaluation.providers.generation import Generation
from evaluation.spec import KINDS

if TYPE_CHECKING:
    from evaluation.benchmarks.contract import BenchmarkDefinition


def _batch_size(value: str) -> int | str:
    return value if value == "auto" else int(value)


SLICE_HELP = (
    "keep these values of a slice dimension (NaVAB: nation=us,cn; DiverValue-Bench: split=test)"
)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    add_benchmark_arguments(parser, SLICE_HELP)
    parser.add_argument(
        "--methods", type=csv_list, default=None, help="e.g. mc (default: all the benchmark's)"
    )
    parser.add_argument("--limit", type=int, help="first N items per slice cell")
    parser.add_argument("--max-gen-toks", type=int, default=128, help="length of generated answers")


def _generation(text: str) -> Generation:
    try:
        return Generation.from_dict(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="evaluate a model on a release")
    run.add_argument("--model", required=True, help="hub id, local path or served model name")
    run.add_argument("--kind", choices=list(KINDS), default="hf")
    run.add_argument("--revision", help="40-hex commit (required for hub ids)")
    run.add_argument("--base-url", help="endpoint URL (kinds openai-completions, openai-chat)")
    run.add_argument(
        "--api-key-env", default=None, help="env var with the endpoint's API key (default: none)"
    )
    run.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"], default="auto")
    run.add_argument("--batch-size", type=_batch_size, default=8)
    run.add_argument("--chat-template", action="store_true", help="apply the chat template")
    run.add_argument(
        "--generation",
        type=_generation,
        help="a chat model's generation settings as JSON, e.g. '{\"reasoning\": true}' "
        "(evaluation/providers/generation.py; the site's cards print them)",
    )
    run.add_argument("--max-length", type=int)
    run.add_argument(
        "--shards",
        type=int,
        default=1,
        help="GPUs one copy of the model spans (vLLM tensor parallel; hf: parallelize=True)",
    )
    run.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="copies scoring side by side, one per GPU (vLLM data parallel; hf: one process each)",
    )
    run.add_argument("--judge", help="AJ judge model (default: the model itself)")
    run.add_argument("--judge-revision")
    run.add_argument(
        "--reference-judge", help="the reference judge of aj_ref (default: aj_ref is not run)"
    )
    run.add_argument("--reference-judge-revision")
    run.add_argument("--release", type=Path, required=True, help="release directory")
    run.add_argument("--out", type=Path, required=True, help="results directory")
    run.add_argument("--seed", type=int, default=1234)
    run.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    _add_filters(run)

    export = commands.add_parser("export-tasks", help="write lm-eval task configs for a release")
    export.add_argument("release", type=Path)
    export.add_argument("out", type=Path)
    export.add_argument(
        "--answers", type=Path, help="answers.jsonl of a run: adds the judge tasks (aj, aj_ref)"
    )
    _add_filters(export)
    add_align_command(commands)
    return parser


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from evaluation.benchmarks import get_benchmark
    from evaluation.results import ProgressEvent
    from evaluation.spec import ModelSpec

    spec = ModelSpec(
        pretrained=args.model,
        kind=args.kind,
        revision=args.revision,
        dtype=args.dtype,
        batch_size=args.batch_size,
        apply_chat_template=args.chat_template,
        max_length=args.max_length,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        shards=args.shards,
        replicas=args.replicas,
        generation=args.generation,
    )
    judge = None
    if args.judge:
        judge = ModelSpec(
            pretrained=args.judge,
            revision=args.judge_revision,
            dtype=args.dtype,
            batch_size=args.batch_size,
            apply_chat_template=args.chat_template,
        )
    reference_judge = None
    if args.reference_judge:
        reference_judge = ModelSpec(
            pretrained=args.reference_judge,
            revision=args.reference_judge_revision,
            dtype=args.dtype,
            batch_size=args.batch_size,
        )
    with tqdm(total=0, unit="req", dynamic_ncols=True) as bar:

        def show(event: ProgressEvent) -> None:
            bar.total = event.total
            bar.set_description(event.stage)
            bar.update(event.done - bar.n)

        benchmark = get_benchmark(args.benchmark)
        result = benchmark.evaluate(
            spec,
            args.release,
            methods=_methods(benchmark, args.methods),
            seed=args.seed,
            device=args.device,
            max_gen_toks=args.max_gen_toks,
            out_dir=args.out,
            progress=show,
            # Options a benchmark may not take are passed only when given (the contract).
            **_given(
                slices=slice_values(args.slice) or None,
                limit=args.limit,
                judge=judge,
                reference_judge=reference_judge,
            ),
        )
    result.write(args.out)
    for row in result.scores:
        cell = "/".join(row.slices.values())
        parts = " ".join(f"{key}={_rate(part['value'])}" for key, part in row.parts.items())
        print(
            f"{cell:<13} {row.method:<6} {row.metric} {row.value:.4f} "
            f"[{row.ci_low:.4f}, {row.ci_high:.4f}] n={row.n} {parts}"
        )
    print(f"results: {args.out / 'results.json'}  per-example: {args.out / 'samples.jsonl'}")
    return 0


def _given(**options: Any) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


def _methods(benchmark: BenchmarkDefinition, asked: Sequence[str] | None) -> list[str] | None:
    """The methods asked for, in declared order (None: the benchmark's default); ValueError
    for one the benchmark does not declare."""
    declared = [m.key for m in benchmark.methods]
    unknown = sorted(set(asked or []) - set(declared))
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; {benchmark.name} has {declared}")
    return [m for m in declared if m in asked] if asked else None


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _method_of(task: str, methods: Sequence[str]) -> str | None:
    """The method a task scores: the longest method key it names ("navab_aj_ref_us_quoted"
    is aj_ref's, not aj's)."""
    named = [m for m in methods if f"_{m}_" in task or task.endswith(f"_{m}")]
    return max(named, key=len) if named else None


def _export(args: argparse.Namespace) -> int:
    from evaluation.benchmarks import get_benchmark

    benchmark = get_benchmark(args.benchmark)
    methods = _methods(benchmark, args.methods) or [m.key for m in benchmark.methods]
    names = benchmark.export_tasks(
        args.release,
        args.out,
        methods=methods,
        slices=slice_values(args.slice) or None,
        limit=args.limit,
        max_gen_toks=args.max_gen_toks,
        answers=args.answers,
    )
    for method in methods:
        mine = [n for n in names if _method_of(n, methods) == method]
        print(f"{method}: {len(mine)} task(s): {', '.join(mine)}")
    print(f"run them with: lm_eval run --include_path {args.out} --tasks ... ({len(names)} in all)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "export-tasks":
            return _export(args)
        return int(args.func(args))
    except (ValueError, ModelError, SetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ProviderBusy as exc:
        # On the site a worker queues the job again once the wait is over; here nobody will.
        print(f"error: {exc}; run the command again in {exc.wait_s:.0f} s", file=sys.stderr)
        return 3
