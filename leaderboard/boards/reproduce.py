"""The commands that reproduce a model's numbers with stock lm-eval, as shown to readers.

A finished job's card records its own exact commands; the same commands with placeholders
come from the benchmark's declaration (`BenchmarkDefinition.stock_commands`), built by the functions
that write the card so their shape cannot drift.
"""

from __future__ import annotations

from typing import Any

RELEASE_DIR = "RELEASE_DIR"
TASKS_DIR = "OUT_DIR"


def card_commands(card: dict[str, Any]) -> list[str]:
    """The stock commands a job's card recorded (export first, then one lm_eval per stage)."""
    commands = card.get("lm_eval_commands") or []
    return [str(c) for c in commands]
