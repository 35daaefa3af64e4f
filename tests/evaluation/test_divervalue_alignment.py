"""Alignment toward a DiverValue-Bench population: trained on the train split's users of the
target group only, scored on every test-split user, refused where users overlap or the group
has nothing to train on; the publisher's DPO settings come from the declaration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from evaluation.alignment.train import DPOSettings, cut_prompt
from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.prompts import opa_prompt
from evaluation.benchmarks.divervalue.release import load_items
from evaluation.cli import main
from evaluation.release import iter_items
from tests.tiny_models import build_tiny_model

DVB = get_benchmark("divervalue")


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return [dict(i) for i in load_items(DVB.demo_dir)]


def test_it_trains_on_the_groups_train_users_and_scores_every_test_user(items):
    plan = DVB.plan_alignment(items, items, {"gender": "Female"})

    assert plan.train and {i["split"] for i in plan.train} == {"train"}
    assert {i["gender"] for i in plan.train} == {"Female"}
    expected_train = {i["uid"] for i in items if i["split"] == "train" and i["gender"] == "Female"}
    assert {i["uid"] for i in plan.train} == expected_train
    test = {i["uid"] for i in items if i["split"] == "test"}
    assert set(plan.evaluate_uids) == test
    assert set(plan.exclude_uids) == {i["uid"] for i in items} - test
    # The test users include the group and the rest, and none of them was trained on.
    test_genders = {i["gender"] for i in items if i["split"] == "test"}
    assert "Female" in test_genders and len(test_genders) > 1
    assert not set(plan.split["train"]["users"]) & set(plan.split["test"]["users"])
    assert plan.counts == {"gender=Female": len(expected_train)}


def test_its_pairs_are_the_opa_prompt_with_answer_w_chosen_and_answer_l_rejected(items):
    plan = DVB.plan_alignment(items, items, {"region": "Western"})
    pairs = DVB.dpo_pairs(plan.train)
    by_uid = {i["uid"]: i for i in items}
    assert len(pairs) == len(plan.train)
    for pair in pairs:
        item = by_uid[pair.uid]
        assert pair.prompt == opa_prompt(item)
        assert (pair.chosen, pair.rejected) == (item["answer_w"], item["answer_l"])


def test_it_refuses_a_user_in_both_the_train_and_the_test_split(items):
    trained = next(i for i in items if i["split"] == "train" and i["gender"] == "Female")
    leaked = [*items, {**trained, "uid": "leak-1", "split": "test"}]

    with pytest.raises(ValueError, match=r"1 user\(s\) are in both the train and the test split"):
        DVB.plan_alignment(leaked, leaked, {"gender": "Female"})


def test_it_refuses_a_group_with_no_train_items(items):
    test_only = sorted(
        {i["birth_country"] for i in items if i["split"] == "test"}
        - {i["birth_country"] for i in items if i["split"] == "train"}
    )
    assert test_only  # the demo holds countries whose users are all in the test split
    with pytest.raises(ValueError, match="the train split has no items of birth_country="):
        DVB.plan_alignment(items, items, {"birth_country": test_only[0]})


def test_it_refuses_a_target_that_is_not_a_declared_dimension(items):
    with pytest.raises(ValueError, match="an alignment target is a value of one of"):
        DVB.plan_alignment(items, items, {"user_id": "u1"})


def test_its_published_dpo_settings_are_declared():
    assert DVB.alignment is not None
    settings = DPOSettings(**DVB.alignment.dpo_defaults)
    published = (
        settings.lora_r,
        settings.lora_alpha,
        settings.lora_dropout,
        settings.beta,
        settings.learning_rate,
        settings.num_train_epochs,
        settings.max_prompt_length,
        settings.max_length,
    )
    assert published == (16, 32, 0.05, 0.1, 5e-5, 3.0, 512, 1024)
    # NaVAB keeps its paper's settings, the site's defaults.
    navab = get_benchmark("navab").alignment
    assert navab is not None and dict(navab.dpo_defaults) == {}
    assert DPOSettings().max_length == 512 and DPOSettings().max_prompt_length is None


def test_a_long_prompt_keeps_its_end(tmp_path: Path):
    tokenizer = AutoTokenizer.from_pretrained(build_tiny_model(tmp_path / "tiny"))
    prompt = "one two three four five six seven eight nine ten.\nQuestion: why?"
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    cut = cut_prompt(tokenizer, prompt, 5)
    assert tokenizer(cut, add_special_tokens=False)["input_ids"] == ids[-5:]
    assert cut.endswith("why?")
    assert cut_prompt(tokenizer, prompt, len(ids)) == prompt
    assert cut_prompt(tokenizer, prompt, None) == prompt


def test_the_command_trains_toward_a_group_and_writes_the_items_to_score_on(tmp_path: Path, capsys):
    model = build_tiny_model(tmp_path / "tiny")
    out = tmp_path / "out"
    argv = ["align", "--benchmark", "divervalue", str(DVB.demo_dir)]
    argv += ["--slice", "gender=Female", "--model", str(model), "--out", str(out)]
    assert main([*argv, "--device", "cpu", "--max-steps", "2", "--lr", "1e-3"]) == 0

    printed = capsys.readouterr().out
    items = load_items(DVB.demo_dir)
    female_train = [i for i in items if i["split"] == "train" and i["gender"] == "Female"]
    assert f"Trained on: {len(female_train)} items" in printed
    assert "export-tasks --benchmark divervalue" in printed
    pairs = [json.loads(line) for line in (out / "train_pairs.jsonl").read_text().splitlines()]
    assert {p["uid"] for p in pairs} == {i["uid"] for i in female_train}
    scored = {i["uid"] for i in iter_items(out / "heldout", DVB.items_file)}
    assert scored == {i["uid"] for i in items if i["split"] == "test"}
    card = json.loads((out / "alignment.json").read_text())
    assert card["steps"] == 2 and (out / "adapter").is_dir()
    # The published settings, with what the command line changed.
    settings = card["settings"]
    assert (settings["max_length"], settings["max_prompt_length"], settings["lora_r"]) == (
        1024,
        512,
        16,
    )
    assert (settings["learning_rate"], settings["max_steps"]) == (1e-3, 2)
    assert json.loads((out / "plan.json").read_text())["target"] == {"gender": "Female"}


def test_the_command_refuses_a_target_without_train_items(tmp_path: Path, capsys):
    argv = ["align", "--benchmark", "divervalue", str(DVB.demo_dir), "--pairs-only"]
    argv += ["--slice", "birth_country=Atlantis", "--model", "x", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "the train split has no items of birth_country=Atlantis" in capsys.readouterr().err
