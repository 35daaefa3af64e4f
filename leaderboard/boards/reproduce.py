"""The commands that reproduce a model's numbers with stock lm-eval, as shown to readers.

A finished job's card records its own exact commands; these are the same commands with
placeholders, built by the functions that write the card so their shape cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation import repro
from evaluation.benchmarks.navab.lm_eval_tasks import GEN, MC, group_name
from evaluation.spec import ModelSpec

RELEASE_DIR = "RELEASE_DIR"
TASKS_DIR = "OUT_DIR"
# ModelSpec insists on a pinned 40-hex commit for hub ids; this one is swapped for a label.
_PLACEHOLDER_SHA = "0" * 40


@dataclass(frozen=True)
class Commands:
    export: str
    mc: str
    answers: str


def generic_commands(seed: int, max_gen_toks: int) -> Commands:
    """Export the tasks, then score MC (and the AJ answers) with `lm_eval` on any model."""
    spec = ModelSpec(pretrained="ORG/MODEL", revision=_PLACEHOLDER_SHA, dtype="bfloat16")

    def lm_eval(kind: str) -> str:
        command = repro.lm_eval_command(
            spec, [group_name(kind)], TASKS_DIR, f"results/{kind}", seed=seed, device="cuda"
        )
        return command.replace(_PLACEHOLDER_SHA, "COMMIT")

    export = repro.export_command(
        Path(RELEASE_DIR),
        TASKS_DIR,
        methods=[MC, "aj"],
        nations=[],  # all the release holds
        modes=[],
        limit=None,
        max_gen_toks=max_gen_toks,
    )
    return Commands(export=export, mc=lm_eval(MC), answers=lm_eval(GEN))


def card_commands(card: dict[str, Any]) -> list[str]:
    """The stock commands a job's card recorded (export first, then one lm_eval per stage)."""
    commands = card.get("lm_eval_commands") or []
    return [str(c) for c in commands]
