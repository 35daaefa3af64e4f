"""lm-eval tasks for PAA's two generation stages, written from rendered prompts.

- `divervalue_paa_answer`: the evaluated model answers each item's profile and question
  (`paa_prompts.answer_prompt`).
- `divervalue_paa_judge_<n>`: judge n of the panel scores the model's answer against the
  references (`paa_prompts.judge_prompt`, which needs the answers of the first stage).

Both are plain `generate_until` tasks with greedy decoding, the system message as the task's
`description` (lm-eval sends it as the system turn under a chat template and prepends it to
the prompt otherwise) and no stop sequence but the model's end of text, so a stock `lm_eval`
run of an export generates the same text and logs it per sample. Layout of an export:

    <task>.yaml          one per stage (and judge)
    data/<task>.jsonl    its documents: uid and the rendered prompt (absolute path)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

ANSWER_TASK: Final = "divervalue_paa_answer"
JUDGE_TASK_PREFIX: Final = "divervalue_paa_judge_"
DATA_DIR: Final = "data"
TASK_VERSION: Final = 1.0


def judge_task(index: int) -> str:
    return f"{JUDGE_TASK_PREFIX}{index}"


def task_config(name: str, data_file: Path, system: str, max_gen_toks: int) -> dict[str, Any]:
    return {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file.resolve())}},
        "test_split": "test",
        "num_fewshot": 0,
        "output_type": "generate_until",
        "description": system,
        "doc_to_text": "prompt",
        "doc_to_target": "",
        "generation_kwargs": {
            "until": [],
            "do_sample": False,
            "temperature": 0.0,
            "max_gen_toks": max_gen_toks,
        },
        "metric_list": [{"metric": "bypass", "aggregation": "bypass"}],
        "metadata": {"version": TASK_VERSION},
    }


def write_generate_task(
    out_dir: Path,
    name: str,
    prompts: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    system: str,
    max_gen_toks: int,
) -> str:
    """Write task `name` whose documents are `prompts` (uid -> rendered prompt), in order."""
    pairs = list(prompts.items()) if isinstance(prompts, Mapping) else list(prompts)
    if not pairs:
        raise ValueError(f"{name}: no prompts to export")
    if max_gen_toks < 1:
        raise ValueError("max_gen_toks must be at least 1")
    out_dir = Path(out_dir).resolve()
    data_file = out_dir / DATA_DIR / f"{name}.jsonl"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    with data_file.open("w", encoding="utf-8") as handle:
        for uid, prompt in pairs:
            handle.write(json.dumps({"uid": uid, "prompt": prompt}, ensure_ascii=False) + "\n")
    config = yaml.safe_dump(
        task_config(name, data_file, system, max_gen_toks), sort_keys=False, allow_unicode=True
    )
    (out_dir / f"{name}.yaml").write_text(config, encoding="utf-8")
    return name


def generated_text(samples: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """uid -> generated text from a task's logged samples."""
    return {str(s["doc"]["uid"]): str(s["filtered_resps"][0]) for s in samples}
