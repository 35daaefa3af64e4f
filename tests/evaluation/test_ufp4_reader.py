"""Reading UF-P-4 as DiverValue-Bench lays it out (data/uf-p-4/: one JSON list per subset),
malformed files included: what is read, what is skipped as the publisher's scripts skip it,
what is refused, and what is said about each."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.benchmarks import get_benchmark, out_of_domain_sets
from evaluation.benchmarks.ufp4.reader import SUBSETS

BENCHMARK = get_benchmark("ufp4")


def record(n: int, **extra: object) -> dict[str, object]:
    return {
        "prompt": f"Question {n}?",
        "chosen": f" Good answer {n}.",
        "rejected": f" Bad answer {n}.",
        "profile": f"Profile {n}",
        **extra,
    }


def write(folder: Path, name: str, data: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (folder / name).write_text(text, encoding="utf-8")


def test_it_is_divervalue_benchmarks_out_of_domain_set() -> None:
    assert [b.slug for b in out_of_domain_sets("divervalue")] == ["ufp4"]
    assert out_of_domain_sets("navab") == []
    assert BENCHMARK.name.endswith("out of domain (UF-P-4)")


def test_the_demo_has_four_subsets_of_four_records() -> None:
    read = BENCHMARK.read_published(BENCHMARK.demo_dir)
    assert not read.problems and not read.notices
    assert sorted(f.name for f in read.files) == sorted(f"{s}.json" for s in SUBSETS)
    counts = {s: sum(r.slice["subset"] == s for r in read.records) for s in SUBSETS}
    assert counts == dict.fromkeys(SUBSETS, 4)


def test_extra_keys_are_kept_and_uids_follow_the_text_not_the_position(tmp_path: Path) -> None:
    write(tmp_path, "honesty.json", [record(1, source="ultrafeedback", score=[1, 2]), record(2)])
    write(tmp_path / "b", "honesty.json", [record(2), record(1, source="ultrafeedback")])
    first = BENCHMARK.read_published(tmp_path)
    assert not first.problems
    kept = {r.fields["prompt"]: r for r in first.records}
    assert kept["Question 1?"].fields["extra"] == {"source": "ultrafeedback", "score": [1, 2]}
    assert kept["Question 2?"].fields["extra"] == {}
    other = BENCHMARK.read_published(tmp_path / "b")
    assert {r.uid for r in other.records} == {r.uid for r in first.records}
    assert all(r.uid.startswith("honest-") for r in first.records)
    assert any(
        "no file for subset(s) helpfulness, instruction_following" in n for n in first.notices
    )


def test_a_record_without_prompt_chosen_or_rejected_is_skipped_and_named(tmp_path: Path) -> None:
    data = [record(1), {"prompt": "Q?", "chosen": " A"}, {"profile": "p"}, record(2)]
    write(tmp_path, "truthfulness.json", data)
    read = BENCHMARK.read_published(tmp_path)
    assert not read.problems
    assert len(read.records) == 2 and read.skipped == 2
    notice = next(n for n in read.notices if "skipped" in n)
    assert "record 1 (no rejected)" in notice and "record 2 (no prompt, chosen, rejected)" in notice


def test_values_the_site_cannot_score_refuse_the_import(tmp_path: Path) -> None:
    data = [
        record(1),
        record(2, chosen=""),
        record(3, rejected=7),
        record(4, profile=["x"]),
        "free text, not a record",
        record(5, prompt="bad\x00"),
    ]
    write(tmp_path, "helpfulness.json", data)
    read = BENCHMARK.read_published(tmp_path)
    assert read.records == []
    found = {(p.index, p.key): p.reason for p in read.problems}
    assert found[(1, "chosen")] == "empty 'chosen'"
    assert found[(2, "rejected")] == "'rejected' must be a string, found a number"
    assert found[(3, "profile")] == "'profile' must be a string, found a list"
    assert found[(4, None)] == "a record must be an object, found a string"
    assert "NUL" in found[(5, "prompt")]


def test_empty_broken_and_unknown_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "helpfulness.json", [])
    write(tmp_path, "honesty.json", "")
    write(tmp_path, "truthfulness.json", "free text, not JSON")
    write(tmp_path, "instruction_following.json", {"prompt": "not a list"})
    write(tmp_path, "notes.json", [record(1)])
    read = BENCHMARK.read_published(tmp_path)
    by_file = {p.file for p in read.problems}
    assert by_file == {"honesty.json", "truthfulness.json", "instruction_following.json"}
    assert any("helpfulness.json: an empty list" in n for n in read.notices)
    assert any(n.startswith("notes.json: not a UF-P-4 subset file") for n in read.notices)
    assert read.records == []


def test_a_record_repeated_in_a_file_is_kept_once(tmp_path: Path) -> None:
    write(tmp_path, "honesty.json", [record(1), record(1), record(2)])
    read = BENCHMARK.read_published(tmp_path)
    assert len(read.records) == 2 and read.duplicates == 1


def test_a_folder_without_subset_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "nothing here")
    read = BENCHMARK.read_published(tmp_path)
    assert read.records == [] and "no UF-P-4 subset files" in read.problems[0].reason
