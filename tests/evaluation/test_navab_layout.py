"""Reading NaVAB's published layouts (the hub's folders, our JSONL export, a release directory)
with no database: records, files and every problem, as `read_published` returns them."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.navab.records import TripleRecord, write_release
from evaluation.benchmarks.published import PublishedRead
from tests.navab_files import DROPPED_FLAG, KEPT_FLAG, navab_record, small_navab_files, write_navab

DEMO_RELEASE = get_benchmark("navab").demo_dir
US_QUOTED = "US/human_statement_result.json"


def read(path: Path) -> PublishedRead:
    return get_benchmark("navab").read_published(path)


def problems(path: Path) -> list[str]:
    return [str(problem) for problem in read(path).problems]


@pytest.fixture
def navab_dir(tmp_path: Path) -> Path:
    return write_navab(tmp_path / "NaVAB", small_navab_files())


@pytest.mark.slow  # a Python process of its own
def test_reading_a_release_imports_no_django():
    code = (
        "import sys; from pathlib import Path; from evaluation.benchmarks import get_benchmark; "
        f"read = get_benchmark('navab').read_published(Path({str(DEMO_RELEASE)!r})); "
        "print(len(read.records), 'django' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["130", "False"]


def test_it_reads_the_demo_release_into_records_with_fields_and_slices():
    result = read(DEMO_RELEASE)

    assert (result.layout, result.problems) == ("navab", [])
    cells = {(r.slice["nation"], r.slice["mode"]) for r in result.records}
    assert len(cells) == 10
    record = result.records[0]
    assert (record.fields["nation"], record.fields["mode"]) == (
        record.slice["nation"],
        record.slice["mode"],
    )
    assert {"question", "statement", "reverse_statement", "language"} <= record.fields.keys()


def test_each_file_is_recorded_with_its_checksum_and_slice(navab_dir: Path):
    files = {f.name: f for f in read(navab_dir).files}

    us_quoted = files[US_QUOTED]
    raw = (navab_dir / US_QUOTED).read_bytes()
    assert (us_quoted.sha256, us_quoted.bytes) == (hashlib.sha256(raw).hexdigest(), len(raw))
    assert (us_quoted.records, us_quoted.imported, us_quoted.skipped) == (3, 2, 1)
    assert us_quoted.slice == {"nation": "us", "mode": "quoted"}
    assert files["german/statements.json"].slice == {"nation": "de", "mode": "source"}


def test_it_detects_the_language_unless_the_record_gives_it(navab_dir: Path):
    languages = {r.source_file: r.fields["language"] for r in read(navab_dir).records}

    assert languages["China/human_statement_result.json"] == "zh"
    assert languages["french/human_statement_result.json"] == "fr"
    assert languages["german/human_statement_result.json"] == "de"
    assert languages["China/official_statement_result.json"] == "en"
    # English text, but the record says German: the record wins.
    assert languages["german/official_statement_result.json"] == "de"


def test_it_accepts_the_misspelled_french_official_file(navab_dir: Path):
    [french] = [
        r for r in read(navab_dir).records if r.slice == {"nation": "fr", "mode": "official"}
    ]

    assert french.source_file == "french/officia_statement_result.json"


def test_it_derives_the_flag_from_the_screening_text_as_the_publisher_did(tmp_path: Path):
    records = [
        navab_record(0, filter_flag=KEPT_FLAG),
        navab_record(1, filter_flag="statement: ## yes"),
        navab_record(2, filter_flag=DROPPED_FLAG),
        # "yes" without the "##" answer marker: the publisher's screening did not keep it.
        navab_record(3, filter_flag="yes, this is about tariffs, but i cannot answer in format"),
        navab_record(4, filter_flag=True),
    ]

    result = read(write_navab(tmp_path / "navab", {US_QUOTED: records}))

    assert (len(result.records), result.skipped) == (3, 2)
    kept = {r.source_index: r.fields["filter_flag_text"] for r in result.records}
    assert kept == {0: KEPT_FLAG, 1: "statement: ## yes", 4: ""}
    assert all(r.fields["filter_flag"] is True for r in result.records)


def test_filtered_out_records_are_not_checked(tmp_path: Path):
    root = write_navab(tmp_path / "navab", {US_QUOTED: [navab_record(0), {"filter_flag": False}]})

    result = read(root)

    assert (len(result.records), result.skipped, result.problems) == (1, 1, [])


# --- problems -------------------------------------------------------------------------------


def test_a_file_that_is_not_a_list_is_a_problem(navab_dir: Path):
    write_navab(navab_dir, {"China/official_statement_result.json": {"records": []}})

    assert (
        "China/official_statement_result.json: expected a JSON list of records, found an object"
        in problems(navab_dir)
    )


def test_bad_records_are_reported_with_file_index_and_reason(navab_dir: Path):
    missing_q = navab_record(1)
    del missing_q["generated Q"]
    records = [
        navab_record(0),
        missing_q,
        navab_record(2, statement="   "),
        navab_record(3, topic=7),
        "not a record",
        navab_record(5, filter_flag=["yes"]),
    ]
    write_navab(navab_dir, {US_QUOTED: records})

    assert problems(navab_dir) == [
        f"{US_QUOTED} record 1: missing key 'generated Q'",
        f"{US_QUOTED} record 2: empty 'statement'",
        f"{US_QUOTED} record 3: 'topic' must be a string, found a number",
        f"{US_QUOTED} record 4: expected an object, found a string",
        f"{US_QUOTED} record 5: 'filter_flag' must be a boolean or the screening model's text, "
        "found a list",
    ]


def test_every_problem_of_a_record_is_reported_with_its_key(tmp_path: Path):
    broken = navab_record(0, filter_flag={"verdict": "yes"}, statement="   ", topic=["trade"])
    del broken["generated Q"]

    result = read(write_navab(tmp_path / "navab", {US_QUOTED: [broken]}))

    assert {(p.file, p.index, p.key) for p in result.problems} == {
        (US_QUOTED, 0, "filter_flag"),
        (US_QUOTED, 0, "generated Q"),
        (US_QUOTED, 0, "statement"),
        (US_QUOTED, 0, "topic"),
    }


def test_unknown_values_postgresql_cannot_store_are_reported(tmp_path: Path):
    record = navab_record(0, note="a\x00b", score=float("nan"))

    found = problems(write_navab(tmp_path / "navab", {US_QUOTED: [record]}))

    assert f"{US_QUOTED} record 0: 'note' contains a NUL character" in found
    assert f"{US_QUOTED} record 0: 'score' contains NaN or Infinity" in found


def test_a_folder_without_nations_is_refused(tmp_path: Path):
    (tmp_path / "empty").mkdir()

    [problem] = problems(tmp_path / "empty")

    assert problem.startswith("empty: no NaVAB nation folders (china, cn, de, de-de, en-gb, en-us")


def test_a_folder_of_splits_for_a_nation_navab_does_not_declare_is_refused_by_name(
    navab_dir: Path,
):
    write_navab(navab_dir, {"Japan/human_statement_result.json": [navab_record(20)]})
    write_navab(navab_dir, {"docs/notes.json": []})

    result = read(navab_dir)

    [problem] = result.problems
    assert problem.file == "Japan/"
    assert "holds NaVAB split files but names no declared nation" in problem.reason
    assert "declare the nation in NaVAB's NATIONS" in problem.reason
    assert "docs/: not a NaVAB nation folder, skipped" in result.notices


def test_a_repeated_record_is_a_duplicate_kept_once(tmp_path: Path):
    root = write_navab(tmp_path / "navab", {US_QUOTED: [navab_record(0), navab_record(0)]})

    result = read(root)

    assert (result.problems, len(result.records), result.duplicates) == ([], 1, 1)


def test_the_same_question_and_statement_with_another_reverse_statement_is_a_conflict(
    tmp_path: Path,
):
    # Not a duplicate: which reverse statement the item is scored against decides its result.
    other = "The state should close public hospitals (item 0)."
    root = write_navab(
        tmp_path / "navab",
        {US_QUOTED: [navab_record(0), navab_record(1), navab_record(0, reverse=other)]},
    )

    result = read(root)

    [problem] = result.problems
    assert (problem.file, problem.index, problem.key) == (
        US_QUOTED,
        2,
        "generated reverse statement",
    )
    assert f"conflicts with {US_QUOTED} record 0" in problem.reason
    assert navab_record(0)["generated reverse statement"] in problem.reason
    assert other in problem.reason
    assert result.duplicates == 0


def test_a_jsonl_line_reusing_a_uid_for_another_triple_is_a_conflict(tmp_path: Path):
    first = TripleRecord(
        uid="a1", nation="us", mode="quoted", question="Q?", statement="S.", reverse_statement="R."
    ).to_dict()
    path = tmp_path / "triples.jsonl"
    lines = [first, first, {**first, "statement": "Another S."}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    result = read(path)

    [problem] = result.problems
    assert (problem.index, problem.unit, problem.key) == (3, "line", "statement")
    assert "conflicts with triples.jsonl line 1" in problem.reason
    assert result.duplicates == 1


@pytest.mark.parametrize(
    ("folder", "nation"),
    [
        ("zh", "cn"),
        ("ZH", "cn"),
        ("cn", "cn"),
        ("zh-CN", "cn"),
        ("en-us", "us"),
        ("US", "us"),
        ("uk", "uk"),
        ("gb", "uk"),
        ("en-GB", "uk"),
        ("fr", "fr"),
        ("Fr-fr", "fr"),
        ("de", "de"),
        ("DE-de", "de"),
    ],
)
def test_a_folder_named_by_a_nations_language_or_iso_code_is_that_nation(
    tmp_path: Path, folder: str, nation: str
):
    root = write_navab(
        tmp_path / "navab", {f"{folder}/official_statement_result.json": [navab_record(0)]}
    )

    result = read(root)

    assert result.problems == []
    assert [r.slice for r in result.records] == [{"nation": nation, "mode": "official"}]
    assert result.records[0].source_file == f"{folder}/official_statement_result.json"


def test_english_names_no_one_nation(tmp_path: Path):
    root = write_navab(tmp_path / "navab", {"en/human_statement_result.json": [navab_record(0)]})

    problem, *_ = read(root).problems

    assert problem.file == "en/"
    assert "names no declared nation" in problem.reason


def test_a_nations_splits_may_sit_in_two_folders(tmp_path: Path):
    root = write_navab(
        tmp_path / "navab",
        {
            "China/human_statement_result.json": [navab_record(0)],
            "zh/official_statement_result.json": [navab_record(1, source="unknown")],
        },
    )

    result = read(root)

    assert result.problems == []
    assert sorted((r.source_file, r.slice["mode"]) for r in result.records) == [
        ("China/human_statement_result.json", "quoted"),
        ("zh/official_statement_result.json", "official"),
    ]
    assert "cn: split files read from 2 folders (China/, zh/)" in result.notices


@pytest.mark.parametrize(
    ("same", "described"), [(True, "an identical file"), (False, "a different file")]
)
def test_the_same_split_in_two_folders_is_a_conflict_never_merged(
    tmp_path: Path, same: bool, described: str
):
    root = write_navab(
        tmp_path / "navab",
        {
            "China/official_statement_result.json": [navab_record(0)],
            "zh/official_statement_result.json": [navab_record(0 if same else 1)],
        },
    )

    result = read(root)

    assert [str(p) for p in result.problems] == [
        f"zh/official_statement_result.json: cn/official is also in "
        f"China/official_statement_result.json ({described}): a split is read from one file, "
        "never merged from two; remove one of them"
    ]


def test_a_nations_splits_sharing_triples_are_reported_with_the_count(tmp_path: Path):
    quoted = [navab_record(i) for i in range(4)]
    root = write_navab(
        tmp_path / "navab",
        {
            "China/human_statement_result.json": quoted,
            "China/official_statement_result.json": [*quoted[:3], navab_record(9)],
            "US/human_statement_result.json": quoted,
            "german/human_statement_result.json": [navab_record(20)],
            "german/statements.json": [navab_record(20)],
        },
    )

    result = read(root)

    # China's two splits share 3 of 4; another nation's identical file and German's
    # unscored source split are no overlap.
    [overlap] = result.overlaps
    assert (overlap.first.name, overlap.second.name) == (
        "China/human_statement_result.json",
        "China/official_statement_result.json",
    )
    assert (overlap.shared, overlap.identical, overlap.most) == (3, False, True)


# --- our JSONL export and release directories ----------------------------------------------


def test_bad_jsonl_lines_are_reported_by_line(tmp_path: Path):
    good = {
        "uid": "a1",
        "nation": "us",
        "mode": "quoted",
        "question": "Q?",
        "statement": "S.",
        "reverse_statement": "RS.",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "uid": "a2", "nation": "xx"}),
        json.dumps({**good, "uid": "a3", "question": ["Q?"]}),
        "",
        json.dumps([good]),
    ]
    path = tmp_path / "triples.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = read(path)

    assert [str(p) for p in result.problems] == [
        "triples.jsonl line 2: invalid JSON: Expecting property name enclosed in double quotes",
        "triples.jsonl line 3: unknown nation 'xx'",
        "triples.jsonl line 4: 'question' must be a string, found a list",
        "triples.jsonl line 6: expected an object, found a list",
    ]
    [record] = result.records
    assert (record.uid, record.source_index, record.unit) == ("a1", 0, "line")
    assert record.problem("too long").index == 1


def test_a_release_directory_whose_file_was_changed_is_refused(tmp_path: Path):
    record = TripleRecord(
        uid="a1", nation="us", mode="quoted", question="Q?", statement="S.", reverse_statement="R."
    )
    write_release(tmp_path / "out", [record], {"version": "r9"})
    with (tmp_path / "out" / "triples.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({**record.to_dict(), "uid": "a2"}) + "\n")

    [problem] = problems(tmp_path / "out")

    assert problem.startswith("triples.jsonl: sha256")
    assert "differs from manifest.json" in problem


def test_a_release_directory_gives_its_manifest(tmp_path: Path):
    record = TripleRecord(
        uid="a1", nation="de", mode="quoted", question="Q?", statement="S.", reverse_statement="R."
    )
    write_release(tmp_path / "out", [record], {"version": "r9", "source": "pipeline"})

    result = read(tmp_path / "out")

    assert (result.layout, result.problems) == ("jsonl", [])
    assert (result.metadata["version"], result.metadata["source"]) == ("r9", "pipeline")
    assert result.records[0].slice == {"nation": "de", "mode": "quoted"}


def test_other_files_are_refused(tmp_path: Path):
    path = tmp_path / "triples.csv"
    path.write_text("uid,nation\n", encoding="utf-8")

    assert problems(path) == [
        "triples.csv: expected a NaVAB folder, a release directory or a .jsonl file"
    ]
