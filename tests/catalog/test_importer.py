"""The NaVAB / JSONL importer and its `import_navab` command."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.navab.records import TripleRecord, triple_uid, write_release
from leaderboard.catalog import importer
from leaderboard.catalog.exports import release_directory, release_file
from leaderboard.catalog.importer import ImportFailed, import_release
from leaderboard.catalog.models import DatasetRelease, Item, ItemSlice
from leaderboard.catalog.search import search_items
from tests.navab_files import navab_record, write_navab

pytestmark = pytest.mark.django_db

DEMO_RELEASE = get_benchmark("navab").demo_dir


def run_import(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_navab", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def import_problems(path: Path) -> str:
    with pytest.raises(CommandError) as excinfo:
        run_import(path, "--version", "broken")
    assert not DatasetRelease.objects.exists()
    assert not Item.objects.exists()
    return str(excinfo.value)


# --- NaVAB folders ------------------------------------------------------------------------


def test_it_imports_a_navab_folder(navab_dir: Path):
    output = run_import(navab_dir, "--version", "v1", "--title", "NaVAB v1")

    release = DatasetRelease.objects.get(version="v1")
    assert release.title == "NaVAB v1"
    assert release.source == DatasetRelease.Source.IMPORTED
    assert not release.is_published
    assert release.manifest["counts"] == {
        "cn/quoted": 1,
        "cn/official": 1,
        "us/quoted": 2,
        "us/official": 1,
        "uk/quoted": 1,
        "uk/official": 1,
        "fr/quoted": 1,
        "fr/official": 1,
        "de/quoted": 1,
        "de/official": 1,
        "de/source": 1,
    }
    assert release.manifest["total"] == Item.objects.count() == 12
    assert release.manifest["skipped"] == 1
    assert release.manifest["incomplete"] == 1
    assert release.manifest["rejected"] == 2
    assert "created: 12 items" in output
    assert "german/statements.json: 1 of 2 record(s) are not complete triples" in output


def test_it_maps_navab_keys_onto_triples(navab_dir: Path):
    import_release(navab_dir, version="v1")

    us = Item.objects.get(source_file="US/human_statement_result.json", source_index=0)
    record = navab_record(0)
    assert us.uid == triple_uid("us", "quoted", record["generated Q"], record["statement"])
    assert us.data["question"] == record["generated Q"]
    assert us.data["reverse_statement"] == record["generated reverse statement"]
    assert us.data["speaker"] == "Minister of Health"
    assert us.data["news_excerpt"] == record["raw_news"]
    assert us.data["raw_generation"] == record["generated raw data"]
    assert us.data["full_source"] == record["full_source"]
    assert us.data["topic"] == "healthcare"
    assert us.data["language"] == "en"
    assert us.slices["mode"] == "quoted"
    # Official records name no speaker: "unknown" and empty become blank.
    us_official = Item.objects.get(source_file="US/official_statement_result.json")
    assert us_official.data["speaker"] == ""
    assert Item.objects.get(source_file="UK/official_statement_result.json").data["speaker"] == ""


def test_it_records_files_and_checksums_in_the_manifest(navab_dir: Path):
    import_release(navab_dir, version="v1")

    files = DatasetRelease.objects.get(version="v1").manifest["files"]
    us_quoted = files["US/human_statement_result.json"]
    raw = (navab_dir / "US" / "human_statement_result.json").read_bytes()
    assert us_quoted["sha256"] == hashlib.sha256(raw).hexdigest()
    assert us_quoted["bytes"] == len(raw)
    assert (us_quoted["records"], us_quoted["imported"], us_quoted["skipped"]) == (3, 2, 1)
    assert (us_quoted["nation"], us_quoted["mode"]) == ("us", "quoted")
    german_source = files["german/statements.json"]
    assert (german_source["nation"], german_source["mode"]) == ("de", "source")
    assert (german_source["records"], german_source["imported"]) == (2, 1)
    assert german_source["incomplete"] == 1


def test_imported_triples_are_searchable(navab_dir: Path):
    import_release(navab_dir, version="v1")

    hits = search_items(Item.objects.all(), "reciprocal tariffs", [get_benchmark("navab")])
    assert [t.source_file for t in hits] == ["US/official_statement_result.json"]


def test_it_publishes_and_marks_demo_data(navab_dir: Path):
    run_import(navab_dir, "--version", "demo", "--publish", "--demo", "--skip-exports")

    release = DatasetRelease.objects.get(version="demo")
    assert release.is_published
    assert release.is_demo
    assert release.source == DatasetRelease.Source.DEMO
    assert DatasetRelease.objects.current() == release


def test_it_imports_the_demo_release():
    report = import_release(DEMO_RELEASE, version="demo", is_demo=True)

    assert report.total == Item.objects.count() == 130
    assert set(report.counts.values()) == {13}
    assert report.skipped == report.duplicates == 0
    languages = set(Item.objects.values_list("data__language", flat=True))
    assert languages == {"en", "zh", "fr", "de"}
    assert Item.objects.exclude(data__topic="").count() == 130


def test_it_defaults_the_version_to_the_folder_name(navab_dir: Path):
    report = import_release(navab_dir)

    assert report.version == "navab"


def test_reimporting_the_same_release_changes_nothing(navab_dir: Path):
    import_release(navab_dir, version="v1")
    before = list(Item.objects.order_by("uid").values_list("id", "uid"))

    output = run_import(navab_dir, "--version", "v1", "--skip-exports")

    assert "unchanged" in output
    assert list(Item.objects.order_by("uid").values_list("id", "uid")) == before
    assert DatasetRelease.objects.count() == 1


def test_duplicate_records_are_kept_once_and_counted(tmp_path: Path):
    root = write_navab(
        tmp_path / "navab",
        {"US/human_statement_result.json": [navab_record(0), navab_record(1), navab_record(0)]},
    )

    report = import_release(root, version="v1")

    assert report.total == Item.objects.count() == 2
    assert report.duplicates == 1
    assert any(
        "US/human_statement_result.json #2 repeats US/human_statement_result.json #0" in notice
        for notice in report.notices
    )
    assert report.release.manifest["files"]["US/human_statement_result.json"]["duplicates"] == 1


def test_conflicting_records_refuse_the_import_naming_both(tmp_path: Path):
    other = "Public hospitals should be sold (item 0)."
    root = write_navab(
        tmp_path / "navab",
        {"US/human_statement_result.json": [navab_record(0), navab_record(0, reverse=other)]},
    )

    problems = import_problems(root)

    assert (
        "US/human_statement_result.json record 1: conflicts with "
        "US/human_statement_result.json record 0 (same nation, mode, question and statement) "
        "but another reverse_statement: "
        f"{navab_record(0)['generated reverse statement']!r} there, {other!r} here"
    ) in problems


def test_a_draft_reimported_with_other_content_is_replaced(tmp_path: Path):
    root = write_navab(tmp_path / "navab", {"US/human_statement_result.json": [navab_record(0)]})
    import_release(root, version="v1")
    write_navab(root, {"US/human_statement_result.json": [navab_record(1), navab_record(2)]})

    report = import_release(root, version="v1")

    assert report.outcome == "replaced"
    assert Item.objects.count() == 2
    assert report.release.manifest["counts"] == {"us/quoted": 2}


def test_replacing_a_draft_reads_no_item_or_slice_row_into_memory(tmp_path: Path):
    """A full release's draft holds ~24,000 items and ~140,000 slice rows: replacing it deletes
    them in SQL, reading the items' ids once, never their data or their slice rows."""
    records = [navab_record(i) for i in range(3)]
    root = write_navab(tmp_path / "navab", {"US/human_statement_result.json": records})
    import_release(root, version="v1")
    write_navab(root, {"US/human_statement_result.json": records[1:]})

    with CaptureQueriesContext(connection) as queries:
        import_release(root, version="v1")

    item_table, slice_table = Item._meta.db_table, ItemSlice._meta.db_table
    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert not [sql for sql in reads if f'FROM "{slice_table}"' in sql]
    item_reads = [sql for sql in reads if f'FROM "{item_table}"' in sql]
    # One read of the ids, not one per item (as a deferred field read row by row would be).
    assert len(item_reads) == 1
    assert item_reads[0].startswith(f'SELECT "{item_table}"."id" FROM')
    assert Item.objects.count() == 2


def test_a_published_release_is_never_changed(tmp_path: Path):
    root = write_navab(tmp_path / "navab", {"US/human_statement_result.json": [navab_record(0)]})
    import_release(root, version="v1", publish=True)
    write_navab(root, {"US/human_statement_result.json": [navab_record(1)]})

    with pytest.raises(ImportFailed, match="published"):
        import_release(root, version="v1")

    assert list(Item.objects.values_list("source_index", "data__question")) == [
        (0, navab_record(0)["generated Q"])
    ]


def test_progress_is_shown_on_large_imports(navab_dir: Path, monkeypatch, capsys):
    monkeypatch.setattr(importer, "PROGRESS_MIN_RECORDS", 5)

    run_import(navab_dir, "--version", "v1", "--skip-exports")

    assert "import v1" in capsys.readouterr().err


# --- malformed input ----------------------------------------------------------------------


def test_invalid_json_writes_nothing(navab_dir: Path):
    write_navab(navab_dir, {"UK/human_statement_result.json": '[{"statement": "x",'})

    message = import_problems(navab_dir)

    assert "UK/human_statement_result.json: invalid JSON at line 1" in message
    assert "nothing was imported" in message


def test_the_problem_list_is_capped_and_every_problem_is_in_the_report_file(tmp_path: Path):
    records = [navab_record(i, **{"generated Q": ""}) for i in range(60)]
    root = write_navab(tmp_path / "navab", {"US/human_statement_result.json": records})

    message = import_problems(root)

    assert "60 problem(s)" in message
    assert "record 9:" in message
    assert "record 10:" not in message
    report = Path(settings.MEDIA_ROOT) / "releases" / "broken" / "import-problems.txt"
    assert f"... and 50 more: all in {report}" in message
    written = report.read_text(encoding="utf-8")
    assert "record 10: empty 'generated Q'" in written
    assert "record 59: empty 'generated Q'" in written


def test_a_folder_of_splits_for_an_undeclared_nation_writes_nothing(navab_dir: Path):
    # Once skipped with a notice, which dropped a whole nation's triples from the release.
    write_navab(navab_dir, {"Japan/human_statement_result.json": [navab_record(20)]})

    message = import_problems(navab_dir)

    assert "Japan/: holds NaVAB split files but names no declared nation" in message


# --- our own JSONL export -----------------------------------------------------------------


# What a JSONL export carries of an item (provenance such as the raw generation stays behind).
EXPORTED = (
    "question",
    "statement",
    "reverse_statement",
    "speaker",
    "topic",
    "language",
    "news_excerpt",
)


def test_it_imports_its_own_jsonl_export(navab_dir: Path):
    original = import_release(navab_dir, version="v1").release
    exported = release_file(original, "jsonl").path

    report = import_release(exported, version="v2")

    def records(version: str) -> dict[str, dict[str, object]]:
        rows = Item.objects.filter(release__version=version).select_related("release")
        return {t.uid: (t.slices, {k: t.data[k] for k in EXPORTED}) for t in rows}

    assert report.total == 12
    assert records("v2") == records("v1")
    assert report.release.manifest["format"] == "jsonl"


def test_it_imports_a_release_directory_and_takes_its_version(tmp_path: Path):
    records = [
        TripleRecord(
            uid=f"uid-{i}",
            nation="de",
            mode="official",
            question=f"Soll der Staat mehr Windräder bauen ({i})?",
            statement=f"Der Staat sollte mehr Windräder bauen, das ist gut ({i}).",
            reverse_statement=f"Der Staat sollte keine Windräder bauen ({i}).",
            language="" if i else "de",
        )
        for i in range(3)
    ]
    write_release(tmp_path / "out", records, {"version": "pipeline-7", "source": "pipeline"})

    report = import_release(tmp_path / "out")

    assert report.version == "pipeline-7"
    assert report.release.source == DatasetRelease.Source.PIPELINE
    assert report.release.manifest["origin"]["version"] == "pipeline-7"
    assert set(Item.objects.values_list("uid", "data__language")) == {
        ("uid-0", "de"),
        ("uid-1", "de"),
        ("uid-2", "de"),
    }


def test_a_harness_directory_round_trips(navab_dir: Path):
    original = import_release(navab_dir, version="v1").release

    report = import_release(release_directory(original), version="v2")

    assert report.total == 12
    assert set(Item.objects.filter(release=report.release).values_list("uid", flat=True)) == set(
        Item.objects.filter(release=original).values_list("uid", flat=True)
    )


def test_a_long_value_in_a_jsonl_export_is_kept_whole(tmp_path: Path):
    # Items keep their fields as JSON: no column limit cuts or refuses a long topic.
    good = TripleRecord(
        uid="a1", nation="us", mode="quoted", question="Q?", statement="S.", reverse_statement="R."
    )
    lines = [good.to_dict(), {**good.to_dict(), "uid": "a2", "topic": "t" * 300}]
    path = tmp_path / "triples.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    import_release(path, version="v1")

    assert Item.objects.get(uid="a2").data["topic"] == "t" * 300
