"""The prompts an item page shows are the documents the lm-eval tasks ran, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.methods import export_tasks as dvb_export
from evaluation.benchmarks.navab.balance import balance
from evaluation.benchmarks.navab.lm_eval_tasks import export_tasks
from tests.evaluation.conftest import tiny_records


def docs_by_uid(path: Path) -> dict[str, dict[str, Any]]:
    return {d["uid"]: d for d in map(json.loads, path.read_text().splitlines())}


def test_it_shows_each_navab_method_the_documents_its_tasks_hold(tmp_path):
    cells = balance(tiny_records())
    answers = {i.uid: f"An answer to {i.uid}." for items in cells.values() for i in items}
    export_tasks(cells, tmp_path, answers=answers)
    navab = get_benchmark("navab")
    for (nation, mode), items in cells.items():
        for item in items:
            record = {
                "uid": item.uid,
                "nation": nation,
                "mode": mode,
                "question": item.question,
                "statement": item.statement,
                "reverse_statement": item.option_b if item.half == "pos" else item.option_a,
            }
            parts = {"half": item.half}
            for kind, task in [("mc", "mc"), ("mc_gen", "mc_gen")]:
                shown = navab.item_prompts(record, kind, parts, {"response": "B"})
                doc = docs_by_uid(tmp_path / "data" / f"navab_{task}_{nation}_{mode}.jsonl")
                assert [p.text for p in shown] == [doc[item.uid]["prompt"]]
            config = yaml.safe_load((tmp_path / f"navab_mc_{nation}_{mode}.yaml").read_text())
            mc = navab.item_prompts(record, "mc", parts, {})
            assert list(mc[0].continuations) == config["doc_to_choice"]
            for judged in ("aj", "aj_ref"):
                model, judge = navab.item_prompts(
                    record, judged, parts, {"answer": answers[item.uid]}
                )
                gen = docs_by_uid(tmp_path / "data" / f"navab_aj_gen_{nation}_{mode}.jsonl")
                ran = docs_by_uid(tmp_path / "data" / f"navab_{judged}_{nation}_{mode}.jsonl")
                assert model.text == gen[item.uid]["prompt"]
                assert model.generated == answers[item.uid] and model.until
                assert judge.text == ran[item.uid]["prompt"]
                assert judge.continuations == (" A", " B")


def test_a_navab_result_without_its_position_shows_no_prompt():
    record = {"uid": "x", "nation": "us", "mode": "quoted", "question": "Q?"}
    record |= {"statement": "S.", "reverse_statement": "RS."}
    assert get_benchmark("navab").item_prompts(record, "mc", {}, {}) == []


def test_it_shows_divervalue_methods_the_documents_their_tasks_hold(tmp_path):
    divervalue = get_benchmark("divervalue")
    items = divervalue.release_items(divervalue.demo_dir)[:4]
    answers = {str(i["uid"]): f"Answer for {i['uid']}" for i in items}
    dvb_export(items, tmp_path, methods=["opa", "paa"], max_gen_toks=8, answers=None)
    opa = docs_by_uid(tmp_path / "data" / "divervalue_opa.jsonl")
    paa = docs_by_uid(tmp_path / "data" / "divervalue_paa_answer.jsonl")
    system = yaml.safe_load((tmp_path / "divervalue_paa_answer.yaml").read_text())["description"]
    for item in items:
        uid = str(item["uid"])
        (shown,) = divervalue.item_prompts(item, "opa", {}, {})
        assert shown.text == opa[uid]["prompt"]
        assert shown.continuations == (item["answer_w"], item["answer_l"])
        model, judge = divervalue.item_prompts(item, "paa", {}, {"answer": answers[uid]})
        assert model.text == paa[uid]["prompt"] and model.system == system
        assert model.generated == answers[uid]
        assert answers[uid] in judge.text and judge.system and judge.system != system
