"""The numbers on the site equal a stock `lm_eval` run of the exported tasks.

Runs the CLI, then executes the commands from its reproducibility card (our export command and
the stock `lm_eval run` commands) and compares every sample.
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evaluation.cli import main
from evaluation.results import EvaluationResult

pytestmark = pytest.mark.slow


def as_argv(command: str) -> list[str]:
    argv = shlex.split(command)
    if argv[0] == "lm_eval":
        return [sys.executable, "-m", "lm_eval", *argv[1:]]
    assert argv[:3] == ["python", "-m", "evaluation"]
    return [sys.executable, *argv[1:]]


ROOT = Path(__file__).resolve().parents[2]


def run_printed(command: str, cwd: Path) -> None:
    """Run a command from a card as a reader would, importing this checkout's `evaluation`
    (an editable install elsewhere must not answer for it)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    subprocess.run(as_argv(command), check=True, capture_output=True, cwd=cwd, env=env)


def stock_samples(output_path: Path) -> list[dict[str, Any]]:
    files = sorted(output_path.glob("**/samples_*.jsonl"))
    assert files, f"lm_eval wrote no samples under {output_path}"
    return [json.loads(line) for file in files for line in file.read_text().splitlines()]


def test_stock_lm_eval_reproduces_our_scores(tiny_model, tiny_release, tmp_path):
    out = tmp_path / "run"
    code = main(
        [
            "run", "--benchmark", "navab", "--model", str(tiny_model), "--dtype", "float32", "--batch-size", "4",
            "--release", str(tiny_release), "--out", str(out), "--device", "cpu",
            "--max-gen-toks", "3", "--slice", "nation=us,fr",
        ]
    )  # fmt: skip
    assert code == 0
    ours = EvaluationResult.read(out)
    commands = ours.card.lm_eval_commands
    assert len(commands) == 5  # export, MC, AJ answers, export with answers, AJ judge
    for command in commands:
        run_printed(command, tmp_path)

    by_key = {(s.method, s.uid): s for s in ours.samples}
    for method in ("mc", "aj"):
        stock = stock_samples(out / "lm_eval" / method)
        assert len(stock) == sum(1 for s in ours.samples if s.method == method)
        for sample in stock:
            mine = by_key[(method, sample["doc"]["uid"])]
            assert bool(sample["acc"]) == mine.correct
            stock_lls = [float(resp[0]) for resp in sample["filtered_resps"]]
            assert stock_lls == list(mine.details["loglikelihoods"].values())
    for sample in stock_samples(out / "lm_eval" / "aj_gen"):
        assert sample["filtered_resps"][0].strip() == ours.answers[sample["doc"]["uid"]]

    stock_results = json.loads(next((out / "lm_eval" / "mc").glob("**/results_*.json")).read_text())
    for row in ours.scores:
        if row.method == "mc":
            task = stock_results["results"]["navab_mc_{nation}_{mode}".format(**row.slices)]
            assert task["acc,none"] == row.value


def test_stock_lm_eval_with_the_reference_judge_reproduces_aj_ref(
    tiny_model, letter_a_model, tiny_release, tmp_path
):
    """The card's commands, run as printed: stock `lm_eval --model hf` with the reference judge
    as the model, on tasks exported from the run's answers file, gives the site's aj_ref."""
    out = tmp_path / "run"
    code = main(
        [
            "run", "--benchmark", "navab", "--model", str(tiny_model), "--dtype", "float32", "--batch-size", "4",
            "--release", str(tiny_release), "--out", str(out), "--device", "cpu",
            "--max-gen-toks", "3", "--slice", "nation=us,cn", "--methods", "aj,aj_ref",
            "--reference-judge", str(letter_a_model),
        ]
    )  # fmt: skip
    assert code == 0
    ours = EvaluationResult.read(out)
    commands = ours.card.lm_eval_commands
    # export, answers, export with answers, AJ (self), AJ (reference judge)
    assert len(commands) == 5
    assert f"pretrained={letter_a_model}," in commands[-1]
    for command in commands:
        run_printed(command, tmp_path)

    by_uid = {s.uid: s for s in ours.samples if s.method == "aj_ref"}
    stock = stock_samples(out / "lm_eval" / "aj_ref")
    assert len(stock) == len(by_uid) == 2 * 2 * 2
    for sample in stock:
        mine = by_uid[sample["doc"]["uid"]]
        assert sample["doc"]["answer"] == mine.details["answer"]
        assert [float(r[0]) for r in sample["filtered_resps"]] == list(
            mine.details["loglikelihoods"].values()
        )
    results = json.loads(next((out / "lm_eval" / "aj_ref").glob("**/results_*.json")).read_text())
    rows = [row for row in ours.scores if row.method == "aj_ref"]
    assert len(rows) == 4
    for row in rows:
        task = results["results"]["navab_aj_ref_{nation}_{mode}".format(**row.slices)]
        assert task["acc,none"] == row.value
