"""What DiverValue-Bench's methods gave a model (and PAA's judges) for one item, rendered by
the functions that write the methods' lm-eval documents, for the item pages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluation.benchmarks.contract import ShownPrompt
from evaluation.benchmarks.divervalue import lm_eval_tasks, lm_eval_utils, paa_tasks
from evaluation.benchmarks.divervalue.paa_prompts import (
    ANSWER_SYSTEM,
    JUDGE_SYSTEM,
    answer_prompt,
    judge_prompt,
)
from evaluation.benchmarks.divervalue.publisher_run import RUN_BY


def _generated(label: str, task: str, prompt: str, system: str, generated: str) -> ShownPrompt:
    """A generation request as its task's config sends it: the system message as the task's
    description, greedy up to the config's stops."""
    config = paa_tasks.task_config(task, Path(paa_tasks.DATA_DIR), system, 1)
    until = tuple(config["generation_kwargs"]["until"])
    return ShownPrompt(
        label, prompt, system=config["description"], until=until, generated=generated
    )


def shown_prompts(
    method: str, item: Mapping[str, Any], details: Mapping[str, Any]
) -> list[ShownPrompt]:
    """The requests METHOD made for ITEM; PAA's judge prompt holds the model's recorded answer
    (every judge of the panel is given the same text)."""
    if method == "opa":
        doc = lm_eval_tasks.doc(item)
        return [ShownPrompt("Model", doc["prompt"], tuple(lm_eval_utils.doc_to_choice(doc)))]
    if details.get("run_by") == RUN_BY:
        return []  # the publisher's own prompts, which its records do not keep
    if method == "paa":
        answer = details.get("answer")
        answer = answer if isinstance(answer, str) else ""
        judge_task = paa_tasks.judge_task(0)
        return [
            _generated("Model", paa_tasks.ANSWER_TASK, answer_prompt(item), ANSWER_SYSTEM, answer),
            _generated("Each judge", judge_task, judge_prompt(item, answer), JUDGE_SYSTEM, ""),
        ]
    return []
