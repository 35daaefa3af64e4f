"""DiverValue-Bench's DPO pairs: the OPA prompt, answer_w chosen, answer_l rejected; train
users only."""

from __future__ import annotations

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.pairs import train_items
from evaluation.benchmarks.divervalue.prompts import opa_prompt
from evaluation.benchmarks.divervalue.release import load_items

BENCHMARK = get_benchmark("divervalue")


def test_pairs_use_the_opa_prompt_and_the_two_answers():
    items = load_items(BENCHMARK.demo_dir)
    pairs = BENCHMARK.dpo_pairs(train_items(items))
    first = next(i for i in items if i["uid"] == pairs[0].uid)
    assert pairs[0].prompt == opa_prompt(first)
    assert pairs[0].prompt.startswith("User profile: Age: ")
    assert pairs[0].prompt.endswith(f".\nQuestion: {first['question']}")
    assert (pairs[0].chosen, pairs[0].rejected) == (first["answer_w"], first["answer_l"])
    test_users = {i["user_id"] for i in items if i["split"] == "test"}
    assert test_users and not test_users & {p.user_id for p in pairs}


def test_a_release_without_a_train_split_has_no_training_pairs():
    with pytest.raises(ValueError, match="no train split"):
        train_items([{"uid": "1", "split": ""}])
