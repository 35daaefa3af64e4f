"""A re-import of the same files stops before reading them; what the import prints stays on a
screen whatever the number of cells, and the full report is a file in the release's folder."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release, release_fingerprint
from leaderboard.catalog.models import DatasetRelease, Item
from tests.navab_files import navab_record, write_navab

pytestmark = pytest.mark.django_db

US_QUOTED = "US/human_statement_result.json"
DIVERVALUE_DEMO = get_benchmark("divervalue").demo_dir


def test_a_reimport_of_the_same_files_reads_no_item(tmp_path: Path):
    root = write_navab(tmp_path / "navab", {US_QUOTED: [navab_record(i) for i in range(5)]})
    import_release(root, version="v1")

    with CaptureQueriesContext(connection) as captured:
        again = import_release(root, version="v1")

    assert again.outcome == "unchanged"
    assert again.total == 5
    assert sum(again.counts.values()) == 5
    assert [f.name for f in again.files] == [US_QUOTED]
    assert again.files[0].imported == 5
    assert not [q["sql"] for q in captured.captured_queries if Item._meta.db_table in q["sql"]]


def test_the_manifest_holds_the_fingerprint_of_the_items_written(tmp_path: Path):
    """Taken as the items are written (a new release) or before (a release replaced): either
    way the one the stored items give, which a later import compares with."""
    root = write_navab(tmp_path / "navab", {US_QUOTED: [navab_record(i) for i in range(5)]})
    created = import_release(root, version="v1").release
    assert created.manifest["content_sha256"] == release_fingerprint(created)

    root = write_navab(tmp_path / "other", {US_QUOTED: [navab_record(i) for i in range(1, 7)]})
    replaced = import_release(root, version="v1")
    assert replaced.outcome == "replaced"
    stored = DatasetRelease.objects.get(version="v1")
    assert stored.manifest["content_sha256"] == release_fingerprint(stored)
    assert stored.manifest["content_sha256"] != created.manifest["content_sha256"]


def test_a_changed_file_is_imported_again(tmp_path: Path):
    root = write_navab(tmp_path / "navab", {US_QUOTED: [navab_record(i) for i in range(5)]})
    import_release(root, version="v1")
    write_navab(root, {US_QUOTED: [navab_record(i) for i in range(6)]})

    again = import_release(root, version="v1")

    assert again.outcome == "replaced"
    assert Item.objects.filter(release__version="v1").count() == again.total == 6


def test_other_files_with_the_same_items_are_still_unchanged(tmp_path: Path):
    records = [navab_record(i) for i in range(3)]
    first = write_navab(tmp_path / "a", {US_QUOTED: records})
    # The same records, spelled otherwise: the files differ, the items do not.
    second = write_navab(tmp_path / "b", {US_QUOTED: json.dumps(records, indent=2)})
    import_release(first, version="v1")

    assert import_release(second, version="v1").outcome == "unchanged"


def test_a_reimport_asked_to_drop_a_split_reads_the_files_again(tmp_path: Path):
    root = write_navab(
        tmp_path / "navab",
        {
            US_QUOTED: [navab_record(i) for i in range(3)],
            "US/official_statement_result.json": [navab_record(10 + i) for i in range(2)],
        },
    )
    import_release(root, version="v1")

    again = import_release(root, version="v1", drop_splits=["us/official"])

    assert again.outcome == "replaced"
    assert again.total == 3


def many_cells(folder: Path, users: int) -> Path:
    """The demo's records, one user each, over many countries and ages: about USERS cells."""
    demo = json.loads((DIVERVALUE_DEMO / "DiverValue-Bench_dataset.json").read_text("utf-8"))
    ages = ["18-24 years old", "25-34 years old", "35-44 years old", "45-54 years old"]
    records = [
        demo[u % len(demo)]
        | {
            "id": f"c{u:04d}",
            "user_id": f"user{u:04d}",
            "birth_country/region": f"Country {u // 4:03d}",
            "age": ages[u % 4],
        }
        for u in range(users)
    ]
    folder.mkdir()
    (folder / "DiverValue-Bench_dataset.json").write_text(json.dumps(records), "utf-8")
    return folder


@pytest.mark.parametrize("users", [40, 400])
def test_the_summary_fits_a_screen_whatever_the_number_of_cells(tmp_path: Path, users: int):
    folder = many_cells(tmp_path / "dvb", users)
    out = StringIO()

    call_command(
        "import_release", "--benchmark", "divervalue", str(folder), "--version", "many",
        "--licence", "cc-by-4.0", "--skip-exports", stdout=out, stderr=StringIO(),
    )  # fmt: skip

    cells = DatasetRelease.objects.get(version="many").manifest["counts"]
    assert len(cells) >= users
    lines = out.getvalue().splitlines()
    assert len(lines) <= 20, "\n".join(lines)
    assert all(len(line) <= 160 for line in lines[1:-1])  # but the paths
    assert any(line.startswith("  Birth country/region") for line in lines)
    assert f"Birth country/region ({users // 4} values)" in out.getvalue()


def test_the_full_report_is_written_in_the_releases_folder_with_every_cell(tmp_path: Path):
    folder = many_cells(tmp_path / "dvb", 60)

    report = import_release(folder, benchmark="divervalue", version="many", licence="cc-by-4.0")

    path = Path(settings.MEDIA_ROOT) / "releases" / "many" / "import-report.txt"
    assert report.report_path == path
    assert f"  full report: {path}" in report.summary()
    written = path.read_text(encoding="utf-8")
    assert "Country 000 · " in written
    assert "Country 014 · " in written
    cell_lines = [line for line in written.splitlines() if line.startswith("  Country ")]
    assert len(cell_lines) == len(report.counts) >= 60
    assert "DiverValue-Bench_dataset.json: 60 records, 60 imported" in written


def test_after_an_admin_edit_the_same_files_restore_the_published_text(tmp_path, admin_client):
    root = write_navab(tmp_path / "navab", {US_QUOTED: [navab_record(i) for i in range(2)]})
    import_release(root, version="v1")
    item = Item.objects.order_by("source_index").first()
    assert item is not None
    url = reverse("admin:benchmark_item_change", args=[item.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        release=item.release_id,
        data=json.dumps({**item.data, "question": "Edited by hand?"}),
        slices=json.dumps(item.slices),
        extra=json.dumps(item.extra),
    )
    assert admin_client.post(url, data).status_code == 302

    again = import_release(root, version="v1")

    assert again.outcome == "replaced"
    assert not Item.objects.filter(data__question="Edited by hand?").exists()
