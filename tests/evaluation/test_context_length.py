"""A model whose context is shorter than some items: those items are left out of its scores
and counted per cell on its card (lm-eval would cut their prompts or assert); a model that
fits none fails as the model's problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.benchmarks.navab.harness import evaluate, judge_answers, release_cells
from evaluation.benchmarks.navab.judging import judge_items
from evaluation.benchmarks.navab.lm_eval_tasks import AJ, export_tasks
from evaluation.benchmarks.navab.records import TripleRecord, write_release
from evaluation.errors import ModelError
from evaluation.lm_eval_runner import load_lm
from tests.evaluation.conftest import cpu_spec, tiny_records
from tests.tiny_models import build_tiny_model

# lm-eval runs in process: it starts probe processes (git, pip, nvidia-smi).
pytestmark = pytest.mark.slow

# A tiny record needs 68 tokens (prompt and letter); a long one well over 96.
SHORT_CONTEXT = 96


@pytest.fixture(scope="module")
def short_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "short", n_positions=SHORT_CONTEXT)


def _release(directory: Path, records: list[TripleRecord]) -> Path:
    write_release(directory, records, {"version": "context-1"})
    return directory


def test_it_leaves_out_and_counts_per_cell_the_items_longer_than_the_context(short_model, tmp_path):
    records = [r for r in tiny_records() if r.nation == "us" and r.mode == "quoted"]
    long = [
        TripleRecord(
            uid=f"us-long-{i}",
            nation="us",
            mode="quoted",
            question="Should the government adopt this policy? " * 8,
            statement=f"The nation supports policy {i}.",
            reverse_statement=f"The nation opposes policy {i}.",
        )
        for i in range(2)
    ]
    release = _release(tmp_path / "release", records + long)

    result = evaluate(cpu_spec(short_model), release, methods=["mc"], device="cpu")

    scored = {s.uid for s in result.samples}
    assert scored == {r.uid for r in records}
    assert result.score({"nation": "us", "mode": "quoted"}, "mc").n == len(records)
    assert result.card.too_long == {
        "mc": {
            "context": SHORT_CONTEXT,
            "n": 2,
            "cells": [{"slices": {"nation": "us", "mode": "quoted"}, "n": 2}],
        }
    }


def test_a_model_that_fits_no_item_fails_as_the_models_problem(short_model, tmp_path):
    long = [
        TripleRecord(
            uid="us-long",
            nation="us",
            mode="quoted",
            question="Should the government adopt this policy? " * 8,
            statement="The nation supports the policy.",
            reverse_statement="The nation opposes the policy.",
        )
    ]
    release = _release(tmp_path / "release", long)

    with pytest.raises(ModelError, match=f"no item fits the model's context of {SHORT_CONTEXT}"):
        evaluate(cpu_spec(short_model), release, methods=["mc"], device="cpu")


def test_a_judged_cell_whose_items_all_lack_an_answer_is_judged_as_nothing(
    letter_a_model, tiny_release, tmp_path
):
    """Items left out of the answering stage have no answer: their cell has nothing to judge.
    A cell with none is skipped, and a method with none at all judges nothing (lm-eval refuses
    an empty task list)."""
    cells = release_cells(tiny_release, ["us", "fr"], ["quoted"])
    us_first = cells[("us", "quoted")][0]
    judge = cpu_spec(letter_a_model)
    lm = load_lm(judge, "cpu")

    exported = export_tasks(cells, tmp_path / "some", methods=[AJ])
    some = judge_answers(lm, judge, judge_items(cells, {us_first.uid: "Yes."}), AJ, exported, 3)
    assert [(r.uid, r.slices["nation"]) for r in some] == [(us_first.uid, "us")]

    exported = export_tasks(cells, tmp_path / "none", methods=[AJ])
    assert judge_answers(lm, judge, judge_items(cells, {}), AJ, exported, 3) == []
