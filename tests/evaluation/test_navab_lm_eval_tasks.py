import json
from pathlib import Path
from typing import Any

import yaml

from evaluation.benchmarks.navab.balance import balance
from evaluation.benchmarks.navab.lm_eval_tasks import export_tasks
from evaluation.benchmarks.navab.prompts import judge_prompt, mc_prompt
from tests.evaluation.conftest import tiny_records


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_it_writes_one_task_per_nation_mode_method_with_absolute_data_paths(tmp_path):
    exported = export_tasks(balance(tiny_records()), tmp_path / "tasks", max_gen_toks=7)
    assert len(exported.names("mc")) == 10
    assert len(exported.names("aj_gen")) == 10
    assert exported.names("aj") == []  # judge tasks need the answers
    config = yaml.safe_load((tmp_path / "tasks" / "navab_mc_us_quoted.yaml").read_text())
    data_file = config["dataset_kwargs"]["data_files"]["test"]
    assert data_file.startswith("/")
    assert config["doc_to_choice"] == [" A", " B"]
    assert config["target_delimiter"] == ""
    gen = yaml.safe_load((tmp_path / "tasks" / "navab_aj_gen_us_quoted.yaml").read_text())
    assert gen["generation_kwargs"]["max_gen_toks"] == 7
    assert gen["generation_kwargs"]["do_sample"] is False
    docs = read_jsonl(Path(data_file))
    assert [d["half"] for d in docs] == ["pos", "neg"]
    first = docs[0]
    assert first["prompt"] == mc_prompt(first["question"], first["option_a"], first["option_b"])
    assert (tmp_path / "tasks" / "README.md").exists()


def test_it_groups_tasks_per_nation_and_overall(tmp_path):
    export_tasks(balance(tiny_records()), tmp_path, methods=["mc"])
    overall = yaml.safe_load((tmp_path / "_navab_mc.yaml").read_text())
    assert overall["task"] == [f"navab_mc_{n}" for n in ["cn", "de", "fr", "uk", "us"]]
    nation = yaml.safe_load((tmp_path / "_navab_mc_us.yaml").read_text())
    assert nation["task"] == ["navab_mc_us_official", "navab_mc_us_quoted"]
    assert nation["aggregate_metric_list"][0]["weight_by_size"] is True
    assert not list(tmp_path.glob("navab_aj*"))


def test_judge_tasks_cover_the_items_that_have_answers(tmp_path):
    cells = balance(tiny_records())
    item = cells[("fr", "official")][1]
    exported = export_tasks(cells, tmp_path, methods=["aj"], answers={item.uid: "Non."})
    assert exported.names("aj") == ["navab_aj_fr_official"]
    docs = read_jsonl(tmp_path / "data" / "navab_aj_fr_official.jsonl")
    assert docs == [
        {
            "uid": item.uid,
            "nation": "fr",
            "mode": "official",
            "half": "neg",
            "question": item.question,
            "option_a": item.option_a,
            "option_b": item.option_b,
            "gold": 1,
            "answer": "Non.",
            "prompt": judge_prompt(item.question, "Non.", item.option_a, item.option_b),
        }
    ]


def test_stock_lm_eval_loads_the_exported_tasks(tmp_path):
    from lm_eval.tasks import TaskManager

    export_tasks(balance(tiny_records()), tmp_path, methods=["mc"])
    manager = TaskManager(include_path=str(tmp_path), include_defaults=False)
    loaded = manager.load(["navab_mc_us"])
    task = loaded["tasks"]["navab_mc_us_quoted"]
    doc = next(iter(task.test_docs()))
    assert task.doc_to_text(doc) == mc_prompt(doc["question"], doc["option_a"], doc["option_b"])
    assert task.doc_to_choice(doc) == [" A", " B"]
    assert task.doc_to_target(doc) == 0


def test_a_new_export_replaces_the_old_one(tmp_path):
    export_tasks(balance(tiny_records()), tmp_path)
    export_tasks(balance(r for r in tiny_records() if r.nation == "de"), tmp_path, methods=["mc"])
    assert sorted(p.name for p in tmp_path.glob("navab_*.yaml")) == [
        "navab_mc_de_official.yaml",
        "navab_mc_de_quoted.yaml",
    ]
