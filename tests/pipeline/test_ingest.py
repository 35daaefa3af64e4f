import json

import pytest

from pipeline.checkpoint import read_jsonl
from pipeline.ingest import load_corpus
from pipeline.runner import run_stage, stage_dir

from .conftest import corpus_rows, write_jsonl

GOOD = corpus_rows(("fr",), 1)[0]


def test_it_reads_valid_jsonl_and_csv(tmp_path):
    jsonl = write_jsonl(tmp_path / "a.jsonl", corpus_rows(("us",), 2))
    csv_path = tmp_path / "b.csv"
    csv_path.write_text(
        "nation,outlet,date,language,title,text,url\n"
        'DE,Die Zeit,2024-01-02,de,Titel,"Ein Text, mit Komma",http://x\n',
        encoding="utf-8",
    )
    documents, errors, duplicates = load_corpus((jsonl, csv_path))
    assert errors == [] and duplicates == 0
    assert len(documents) == 7
    german = documents[-1]
    assert (german.nation, german.text, german.source) == ("de", "Ein Text, mit Komma", "b.csv:2")
    assert german.doc_id.startswith("de-")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "record must be an object, got list"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "outlet"}), "missing field(s): outlet"),
        (json.dumps({**GOOD, "title": "  "}), "empty field(s): title"),
        (json.dumps({**GOOD, "text": 3}), "field 'text' must be a string, got int"),
        (json.dumps({**GOOD, "nation": "es"}), "unknown nation 'es'"),
        (json.dumps({**GOOD, "date": "03/01/2024"}), "date '03/01/2024' is not YYYY-MM-DD"),
        (json.dumps({**GOOD, "date": "2024-02-30"}), "date '2024-02-30' is not a calendar date"),
        (json.dumps({**GOOD, "language": "French"}), "language 'French' is not a language code"),
    ],
)
def test_it_reports_each_bad_record_with_file_line_and_reason(tmp_path, line, reason):
    path = tmp_path / "fr.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + line + "\n", encoding="utf-8")
    documents, errors, _ = load_corpus((path,))
    assert len(documents) == 1
    [error] = errors
    assert (error.path, error.line) == (str(path), 3)
    assert reason in error.reason
    assert str(error).startswith(f"{path}:3: ")


def test_it_reports_csv_header_and_row_problems(tmp_path):
    no_text = tmp_path / "a.csv"
    no_text.write_text("nation,outlet,date,language,title\nus,X,2024-01-01,en,T\n")
    extra = tmp_path / "b.csv"
    extra.write_text("nation,outlet,date,language,title,text\nus,X,2024-01-01,en,T,body,surplus\n")
    (tmp_path / "c.txt").write_text("text")
    _, errors, _ = load_corpus((no_text, extra, tmp_path / "missing.jsonl", tmp_path / "c.txt"))
    assert [(e.line, e.reason) for e in errors] == [
        (1, "CSV header lacks column(s): text"),
        (2, "more values than header columns"),
        (0, "file not found"),
        (0, "unsupported file type (expected .jsonl or .csv)"),
    ]


def test_it_keeps_one_copy_of_duplicates_and_counts_them(tmp_path, make_config):
    rows = corpus_rows(("us",), 2)
    path = write_jsonl(tmp_path / "us.jsonl", [*rows, rows[0], {**rows[0], "date": "bad"}])
    config = make_config([path])
    result = run_stage(config.run_dir, config, "ingest")
    assert result.counts["documents"] == 6
    assert result.dropped == {"duplicate": 1, "invalid_record": 1}
    [rejected] = read_jsonl(stage_dir(config.run_dir, "ingest") / "rejected.jsonl")
    assert rejected["line"] == 8 and "not YYYY-MM-DD" in rejected["reason"]


def test_it_fails_the_stage_when_nothing_is_valid(tmp_path, make_config):
    path = tmp_path / "us.jsonl"
    path.write_text('{"nation": "us"}\n')
    config = make_config([path])
    with pytest.raises(ValueError, match=r"no valid news records.*missing field"):
        run_stage(config.run_dir, config, "ingest")
    assert not stage_dir(config.run_dir, "ingest").exists()
