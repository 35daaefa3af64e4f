"""Command line: `python -m pipeline run CONFIG`, `status RUN_DIR`, `approve RUN_DIR`.

    python -m pipeline run config.toml [--until STAGE] [--from STAGE]
    python -m pipeline status var/pipeline/run-1 [--json]
    python -m pipeline approve var/pipeline/run-1 --reviewer alice --accept-proposal
    python -m pipeline approve var/pipeline/run-1 --reviewer alice --approve us-0 --reject us-1
    python -m pipeline dpo-pairs var/pipeline/run-1 --nation us --out pairs/
    python -m pipeline align var/pipeline/run-1 --nation us --model PATH --out aligned/

`dpo-pairs` and `align` are `python -m evaluation`'s, with pairs from the run's triples before
Conflict Reduction and held-out items from the run's release.

Exit status: 0 when the requested stages completed, 3 when the run waits for topic approvals,
1 on an error (the message says which stage and why).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evaluation.benchmarks.navab.alignment.cli import add_commands as add_alignment_commands
from pipeline.config import ConfigError, load_config
from pipeline.llm.base import LLMError
from pipeline.pair_source import read_pre_cr_source
from pipeline.progress import stage_reporter
from pipeline.runner import (
    STAGE_NAMES,
    ConfigMismatch,
    StageOrderError,
    approvals_path,
    read_proposal,
    run_all,
    run_status,
)
from pipeline.screening import write_approvals

AWAITING_APPROVAL = 3


def _format_counts(values: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "-"


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    # On stderr, like any progress display: stdout keeps only the summary below.
    progress = stage_reporter(sys.stderr)
    try:
        results = run_all(config, progress, until=args.until, from_stage=args.from_stage)
    finally:
        progress.close()
    for result in results:
        line = f"{result.stage:<10} {result.status:<17} {_format_counts(result.counts)}"
        if result.dropped:
            line += f"  dropped: {_format_counts(result.dropped)}"
        print(line)
    if results and results[-1].status == "awaiting_approval":
        print(results[-1].message)
        print(f"review the proposal, then: python -m pipeline approve {config.run_dir} ...")
        return AWAITING_APPROVAL
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    rows = run_status(args.run_dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        extra = _format_counts(row.get("counts", {}))
        if row.get("dropped"):
            extra += f"  dropped: {_format_counts(row['dropped'])}"
        print(f"{row['stage']:<10} {row.get('queue', ''):<7} {row['state']:<17} {extra}")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    topics = read_proposal(args.run_dir).get("topics", {})
    if not topics:
        print(f"{args.run_dir}: no screening proposal yet", file=sys.stderr)
        return 1
    decisions: dict[str, bool] = {}
    if args.accept_proposal:
        decisions.update({t: bool(p["proposed"]) for t, p in topics.items()})
    decisions.update({t: True for t in args.approve})
    decisions.update({t: False for t in args.reject})
    unknown = sorted(set(decisions) - set(topics))
    if unknown:
        print(f"not in the proposal: {', '.join(unknown)}", file=sys.stderr)
        return 1
    write_approvals(approvals_path(args.run_dir), decisions, args.reviewer)
    print(f"recorded {len(decisions)} decision(s) by {args.reviewer}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run (or resume) a pipeline from a config file")
    run.add_argument("config", type=Path)
    run.add_argument("--until", choices=STAGE_NAMES, help="stop after this stage")
    run.add_argument(
        "--from", dest="from_stage", choices=STAGE_NAMES, help="rerun from this stage on"
    )
    run.set_defaults(func=cmd_run)
    status = commands.add_parser("status", help="show each stage's state and counts")
    status.add_argument("run_dir", type=Path)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    approve = commands.add_parser("approve", help="record topic approvals for a run")
    approve.add_argument("run_dir", type=Path)
    approve.add_argument("--reviewer", required=True)
    approve.add_argument("--accept-proposal", action="store_true")
    approve.add_argument("--approve", nargs="*", default=[], metavar="TOPIC")
    approve.add_argument("--reject", nargs="*", default=[], metavar="TOPIC")
    approve.set_defaults(func=cmd_approve)
    add_alignment_commands(
        commands,
        read=read_pre_cr_source,
        data_help="run directory: pairs from its generation stage (before Conflict Reduction), "
        "held-out items from its release",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (ConfigError, ConfigMismatch, StageOrderError, LLMError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
