"""Reading DiverValue-Bench's published layout: files recognised by their records, every
problem located, splits checked to be user-disjoint, nothing returned when anything is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.published import Problem, PublishedRead

BENCHMARK = get_benchmark("divervalue")
DEMO = BENCHMARK.demo_dir


def read_published(path: Path) -> PublishedRead:
    return BENCHMARK.read_published(path)


def file_splits(read: PublishedRead) -> dict[str, str]:
    """File name -> the split it holds ("" for a file of items without one)."""
    return {f.name: f.slice.get("split", "") for f in read.files}


def demo_records(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((DEMO / name).read_text(encoding="utf-8"))
    return data


def write(folder: Path, name: str, data: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_the_demo_release_reads_with_its_splits_and_regions():
    result = read_published(DEMO)
    assert result.problems == []
    assert result.layout == "divervalue"
    assert file_splits(result) == {
        "DVB-test.json": "test",
        "DVB-train.json": "train",
        "DVB-val.json": "val",
        "DiverValue-Bench_dataset.json": "",
    }
    assert all(len(f.sha256) == 64 and f.records for f in result.files)
    # The full file gives every item; the split files repeat its records, which says which
    # split each is in: neither a duplicate nor a skipped record.
    full = next(f for f in result.files if f.name == "DiverValue-Bench_dataset.json")
    assert full.imported == full.records == len(result.records)
    splits = [f for f in result.files if f is not full]
    assert all(f.records and f.imported == 0 for f in splits)
    assert result.duplicates == result.skipped == result.incomplete == 0
    items = [{"uid": r.uid, **r.fields} for r in result.records]
    for record in result.records:
        assert record.slice == BENCHMARK.slice_of(record.fields)
        assert record.slice["region"] == record.fields["region"]
        assert record.source_file == full.name
    assert len(items) >= 150
    assert len({i["user_id"] for i in items}) >= 40
    assert len({i["birth_country"] for i in items}) >= 12
    assert len({i["region"] for i in items} - {"Other", "Unspecified"}) >= 6
    assert "Prefer not to say" in {i["birth_country"] for i in items}
    assert {i["split"] for i in items} == {"train", "val", "test"}
    by_split: dict[str, set[str]] = {}
    for item in items:
        by_split.setdefault(item["split"], set()).add(item["user_id"])
    assert not (by_split["train"] & by_split["test"]) and not (by_split["val"] & by_split["test"])
    assert any("Bosnia and Herzegovina" in n and "Other" in n for n in result.notices)


def test_it_reads_the_earlier_mvpbench_names(tmp_path):
    for split in ("train", "val", "test"):
        write(tmp_path, f"mvpbench_{split}.json", demo_records(f"DVB-{split}.json"))
    result = read_published(tmp_path)
    assert result.problems == []
    assert file_splits(result) == {f"mvpbench_{s}.json": s for s in ("test", "train", "val")}
    assert len(result.records) == len(demo_records("DiverValue-Bench_dataset.json"))


def test_it_recognises_records_under_an_unknown_name_and_ignores_other_json(tmp_path):
    write(tmp_path, "renamed_again.json", demo_records("DVB-test.json"))
    write(tmp_path, "judge_outputs.json", [{"final_label": "W"}])
    result = read_published(tmp_path)
    assert result.problems == []
    assert file_splits(result) == {"renamed_again.json": ""}
    assert any("renamed_again.json" in n and "unknown name" in n for n in result.notices)
    assert any("judge_outputs.json" in n and "ignored" in n for n in result.notices)
    assert len(result.records) == len(demo_records("DVB-test.json"))
    assert {r.fields["split"] for r in result.records} == {""}


def test_every_problem_is_listed_with_file_index_and_key_and_nothing_is_returned(tmp_path):
    records = demo_records("DiverValue-Bench_dataset.json")
    records[3].pop("answer_l")
    records[3]["age"] = 42
    records[7]["question"] = "  "
    records[9]["id"] = records[8]["id"]
    write(tmp_path, "DiverValue-Bench_dataset.json", records)
    (tmp_path / "DVB-test.json").write_text("[{not json", encoding="utf-8")
    result = read_published(tmp_path)
    assert result.records == []
    located = {(p.file, p.index, p.key) for p in result.problems}
    assert {
        ("DiverValue-Bench_dataset.json", 3, "answer_l"),
        ("DiverValue-Bench_dataset.json", 3, "age"),
        ("DiverValue-Bench_dataset.json", 7, "question"),
        ("DiverValue-Bench_dataset.json", 9, "id"),
        ("DVB-test.json", None, None),
    } <= located
    assert any("invalid JSON" in p.reason for p in result.problems)


def test_a_user_in_two_splits_is_reported(tmp_path):
    train = demo_records("DVB-train.json")
    test = demo_records("DVB-test.json")
    test[0]["user_id"] = train[0]["user_id"]
    write(tmp_path, "DVB-train.json", train)
    write(tmp_path, "DVB-test.json", test)
    result = read_published(tmp_path)
    assert result.records == []
    [problem] = result.problems
    assert (problem.file, problem.index, problem.key) == ("DVB-train.json", 0, "user_id")
    assert "user-disjoint" in problem.reason


def test_a_split_record_that_differs_from_the_full_file_is_a_problem(tmp_path):
    shutil.copytree(DEMO, tmp_path / "release")
    test = demo_records("DVB-test.json")
    test[2]["answer_w"] = "Something else entirely."
    write(tmp_path / "release", "DVB-test.json", test)
    result = read_published(tmp_path / "release")
    assert [(p.file, p.index, p.key) for p in result.problems] == [("DVB-test.json", 2, "id")]


def test_unknown_keys_are_kept(tmp_path):
    records = demo_records("DVB-val.json")
    records[0]["conversation_id"] = "c-123"
    write(tmp_path, "DVB-val.json", records)
    result = read_published(tmp_path)
    record = next(r for r in result.records if r.uid == str(records[0]["id"]))
    assert record.fields["extra"] == {"conversation_id": "c-123"}
    assert record.fields["stated_prefs"] == records[0]["stated_prefs"]


def test_an_unknown_key_that_jsonb_cannot_hold_is_a_problem(tmp_path):
    records = demo_records("DVB-val.json")
    records[1]["score"] = float("nan")
    write(tmp_path, "DVB-val.json", records)
    result = read_published(tmp_path)
    assert [(p.file, p.index, p.key) for p in result.problems] == [("DVB-val.json", 1, "score")]


def test_the_benchmark_reads_through_its_declared_method(tmp_path):
    result = BENCHMARK.read_published(tmp_path)
    assert result.problems == [
        Problem(str(tmp_path), None, "no JSON, JSONL, CSV or Parquet files found")
    ]
    missing = tmp_path / "absent"
    assert [p.reason for p in BENCHMARK.read_published(missing).problems] == [
        "no such file or directory"
    ]


def test_a_file_repeating_the_full_files_records_outside_the_splits_counts_duplicates(tmp_path):
    full = demo_records("DiverValue-Bench_dataset.json")
    write(tmp_path, "DiverValue-Bench_dataset.json", full)
    write(tmp_path, "copy.json", full[:3])

    result = read_published(tmp_path)

    assert result.problems == []
    assert result.duplicates == 3
    assert len(result.records) == len(full)
