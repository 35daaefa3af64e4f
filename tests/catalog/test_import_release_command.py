"""`manage.py import_release --benchmark SLUG PATH`: one command for every benchmark."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core import checks
from django.core.management import CommandError, ManagementUtility, call_command

from evaluation.benchmarks import get_benchmark
from evaluation.release import load_manifest
from leaderboard.catalog.exports import release_directory
from leaderboard.catalog.importer import ImportFailed, import_release
from leaderboard.catalog.models import DatasetRelease, Item
from tests.navab_files import navab_record, write_navab

pytestmark = pytest.mark.django_db

DIVERVALUE_DEMO = get_benchmark("divervalue").demo_dir


def run_import(*args: str) -> str:
    out = StringIO()
    call_command("import_release", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_imports_another_benchmarks_published_layout():
    output = run_import(
        "--benchmark",
        "divervalue",
        str(DIVERVALUE_DEMO),
        "--version",
        "dvb-1",
        "--licence",
        "cc-by-nc-4.0",
    )

    release = DatasetRelease.objects.get(version="dvb-1")
    assert release.benchmark.slug == "divervalue"
    assert release.license == "cc-by-nc-4.0"
    assert release.title == "DiverValue-Bench dvb-1"
    assert release.items.count() == release.manifest["total"] > 0
    assert f"created: {release.manifest['total']} items" in output


def test_its_release_directory_is_the_benchmarks_own_items_file():
    import_release(DIVERVALUE_DEMO, benchmark="divervalue", version="dvb-1", licence="cc-by-4.0")
    release = DatasetRelease.objects.get()
    benchmark = get_benchmark("divervalue")

    directory = release_directory(release)

    assert (directory / benchmark.items_file).is_file()
    assert not (directory / "triples.jsonl").exists()
    manifest = load_manifest(directory)
    assert manifest["benchmark"] == "divervalue"
    assert sum(manifest["counts"].values()) == manifest["total"] == release.items.count()
    first = Item.objects.filter(release=release).first()
    assert first is not None
    assert benchmark.count_key(first.slices) in manifest["counts"]


def test_it_requires_a_licence_where_the_benchmark_states_none():
    with pytest.raises(CommandError, match="states no licence"):
        run_import("--benchmark", "divervalue", str(DIVERVALUE_DEMO), "--version", "dvb-1")
    assert not DatasetRelease.objects.exists()


def test_it_requires_a_benchmark():
    with pytest.raises(CommandError, match="--benchmark"):
        run_import(str(DIVERVALUE_DEMO))


def test_it_refuses_an_unknown_benchmark():
    with pytest.raises(ImportFailed, match="unknown benchmark 'nope'"):
        import_release(DIVERVALUE_DEMO, benchmark="nope", version="x")


def test_a_version_taken_by_another_benchmark_is_refused():
    import_release(get_benchmark("navab").demo_dir, version="shared", is_demo=True)

    with pytest.raises(ImportFailed, match="belongs to NaVAB"):
        import_release(DIVERVALUE_DEMO, benchmark="divervalue", version="shared", licence="x")
    assert DatasetRelease.objects.get().benchmark.slug == "navab"


def test_import_navab_is_the_navab_alias():
    out = StringIO()
    call_command(
        "import_navab",
        str(get_benchmark("navab").demo_dir),
        "--version",
        "demo",
        "--demo",
        stdout=out,
    )

    assert DatasetRelease.objects.get().benchmark.slug == "navab"


def test_split_files_add_no_blank_cell_to_the_counts():
    # DiverValue-Bench's split files carry slice={"split": ...}, which is no declared
    # dimension: they must not add an all-blank cell ("/////") to the manifest's counts.
    import_release(DIVERVALUE_DEMO, benchmark="divervalue", version="dvb-1", licence="cc-by-4.0")
    benchmark = get_benchmark("divervalue")

    counts = DatasetRelease.objects.get().manifest["counts"]

    assert counts
    for key in counts:
        assert all(benchmark.count_values(key).values()), key


SURROGATE = "\ud800"  # written as the JSON escape "\ud800": valid JSON, not text


def surrogate_record(key: str, record: dict[str, Any]) -> dict[str, Any]:
    if key == "nested":
        return record | {"annotations": {"notes": [f"a{SURROGATE}b"]}}
    return record | {key: f"{record.get(key) or 'text'} {SURROGATE}"}


@pytest.mark.parametrize("key", ["generated Q", "statement", "filter_flag", "source", "nested"])
def test_a_lone_surrogate_in_a_navab_record_is_reported_by_file_index_and_key(tmp_path, key):
    records = [navab_record(0), surrogate_record(key, navab_record(1))]
    if key == "filter_flag":
        records[1]["filter_flag"] = f"{SURROGATE} ## yes"
    # json.dumps escapes the surrogate (ASCII output), as a publisher's file would spell it.
    folder = write_navab(
        tmp_path / "navab", {"US/human_statement_result.json": json.dumps(records)}
    )

    with pytest.raises(CommandError) as refused:
        run_import("--benchmark", "navab", str(folder), "--version", "bad")

    shown = "annotations" if key == "nested" else key
    assert f"US/human_statement_result.json record 1: {shown!r} holds a lone surrogate" in str(
        refused.value
    )
    assert not DatasetRelease.objects.exists()


def test_a_lone_surrogate_in_a_navab_export_line_is_reported_by_line_and_key(tmp_path):
    line = {
        "uid": "a1",
        "nation": "us",
        "mode": "quoted",
        "question": f"Why {SURROGATE}?",
        "statement": "Because.",
        "reverse_statement": "Not because.",
    }
    (tmp_path / "triples.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        run_import("--benchmark", "navab", str(tmp_path), "--version", "bad")

    assert "triples.jsonl line 1: 'question' holds a lone surrogate" in str(refused.value)


@pytest.mark.parametrize("key", ["id", "question", "answer_w", "gender", "stated_prefs"])
def test_a_lone_surrogate_in_a_divervalue_record_is_reported_by_file_index_and_key(tmp_path, key):
    records = json.loads((DIVERVALUE_DEMO / "DVB-val.json").read_text(encoding="utf-8"))
    if key == "stated_prefs":
        records[2]["stated_prefs"] = records[2]["stated_prefs"] | {"other_text": SURROGATE}
    else:
        records[2] = surrogate_record(key, records[2])
    (tmp_path / "DVB-val.json").write_text(json.dumps(records), encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        run_import("--benchmark", "divervalue", str(tmp_path), "--version", "bad", "--licence", "x")

    assert f"DVB-val.json record 2: {key!r} holds a lone surrogate" in str(refused.value)
    assert not DatasetRelease.objects.exists()


def test_it_prints_slice_values_as_written_not_percent_escaped():
    output = run_import(
        "--benchmark",
        "divervalue",
        str(DIVERVALUE_DEMO),
        "--version",
        "dvb-1",
        "--licence",
        "cc-by-nc-4.0",
        "--skip-exports",
    )

    assert "%2F" not in output
    assert "Non-binary / third gender" in output


def test_the_site_checks_do_not_hold_up_an_import(tmp_path, capsys):
    """The command runs no system checks: they load every view (a no-op re-import's start-up
    and memory) and judge a benchmark's evaluation settings, which an import does not use."""

    def unconfigured(**kwargs: Any) -> list[checks.CheckMessage]:
        return [checks.Error("a judge endpoint is not configured", id="test.E001")]

    root = write_navab(tmp_path / "nv", {"UK/human_statement_result.json": [navab_record(0)]})
    checks.register(unconfigured)
    try:
        # As `manage.py` runs it (call_command skips the checks).
        ManagementUtility(
            ["manage.py", "import_release", "--benchmark", "navab", str(root),
             "--version", "checked", "--skip-exports"]
        ).execute()  # fmt: skip
    finally:
        checks.registry.registry.registered_checks.discard(unconfigured)
    assert "Done: release checked created." in capsys.readouterr().out
