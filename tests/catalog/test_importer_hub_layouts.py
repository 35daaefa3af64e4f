"""The NaVAB release as the hub holds it today (issue 24): China's files under `China/`, under
`zh/` (where the hub moved the official file while its card still names `China/`), split
across the two, the same split in both, and identical quoted and official files; each imported
and its release card read."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from leaderboard.catalog.models import DatasetRelease, Item
from tests.navab_files import navab_record, write_navab

pytestmark = pytest.mark.django_db

QUOTED = "human_statement_result.json"
OFFICIAL = "official_statement_result.json"


def china_quoted() -> list[dict[str, Any]]:
    return [navab_record(i) for i in range(3)]


def china_official() -> list[dict[str, Any]]:
    return [navab_record(i, source="unknown") for i in range(10, 12)]


def run_import(root: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_navab", str(root), "--version", "v1", "--skip-exports", *args, stdout=out)
    return out.getvalue()


def refused(root: Path, *args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        run_import(root, *args)
    assert not DatasetRelease.objects.exists()
    assert not Item.objects.exists()
    return str(excinfo.value)


def card(admin_client: Client) -> str:
    response = admin_client.get(reverse("release-detail", args=["navab", "v1"]))
    assert response.status_code == 200
    return response.content.decode()


def cell_row(cell: str, folder: str, file: str, items: str) -> str:
    """A row of the card's "Where each cell came from" table."""
    return (
        f'<tr><th scope="row">{cell}</th>\n'
        f"      <td><code>{folder}/</code></td>\n"
        f"      <td><code>{file}</code></td>\n"
        f'      <td class="num">{items}</td></tr>'
    )


@pytest.mark.parametrize("folder", ["China", "zh"])
def test_chinas_files_in_one_folder_named_either_way_import_as_china(
    tmp_path: Path, admin_client: Client, folder: str
):
    root = write_navab(
        tmp_path / "NaVAB",
        {f"{folder}/{QUOTED}": china_quoted(), f"{folder}/{OFFICIAL}": china_official()},
    )

    run_import(root)

    release = DatasetRelease.objects.get(version="v1")
    assert release.manifest["counts"] == {"cn/quoted": 3, "cn/official": 2}
    html = card(admin_client)
    assert cell_row("China · Quoted statements", folder, QUOTED, "3") in html
    assert cell_row("China · Official positions", folder, OFFICIAL, "2") in html
    assert 'id="split-overlaps"' not in html


def test_chinas_splits_across_china_and_zh_import_together(tmp_path: Path, admin_client: Client):
    root = write_navab(
        tmp_path / "NaVAB",
        {f"China/{QUOTED}": china_quoted(), f"zh/{OFFICIAL}": china_official()},
    )

    output = run_import(root)

    assert "Notice: cn: split files read from 2 folders (China/, zh/)" in output
    assert DatasetRelease.objects.get().manifest["counts"] == {"cn/quoted": 3, "cn/official": 2}
    html = card(admin_client)
    assert cell_row("China · Quoted statements", "China", QUOTED, "3") in html
    assert cell_row("China · Official positions", "zh", OFFICIAL, "2") in html
    assert "cn: split files read from 2 folders (China/, zh/)" in html


def test_the_same_split_in_china_and_zh_refuses_the_import(tmp_path: Path, admin_client: Client):
    root = write_navab(
        tmp_path / "NaVAB",
        {
            f"China/{QUOTED}": china_quoted(),
            f"China/{OFFICIAL}": china_official(),
            f"zh/{OFFICIAL}": china_official()[:1],
        },
    )

    message = refused(root)

    assert (
        f"zh/{OFFICIAL}: cn/official is also in China/{OFFICIAL} (a different file): a split "
        "is read from one file, never merged from two; remove one of them"
    ) in message
    # Nothing imported, so there is no card to mislead.
    response = admin_client.get(reverse("release-detail", args=["navab", "v1"]))
    assert response.status_code == 404


@pytest.fixture
def identical_splits(tmp_path: Path) -> Path:
    """China's quoted and official files byte for byte the same, as the hub's equal row
    counts (26.2k each) suggest; the United States as another nation."""
    return write_navab(
        tmp_path / "NaVAB",
        {
            f"China/{QUOTED}": china_quoted(),
            f"zh/{OFFICIAL}": china_quoted(),
            f"US/{QUOTED}": [navab_record(20)],
            f"US/{OFFICIAL}": [navab_record(21, source="unknown")],
        },
    )


def test_identical_quoted_and_official_files_refuse_the_import_until_the_operator_chooses(
    identical_splits: Path,
):
    message = refused(identical_splits)

    assert (
        f"zh/{OFFICIAL}: China/{QUOTED} and zh/{OFFICIAL} share 3 item(s) (identical files; "
        "3 and 3 items): cn/quoted and cn/official would rank models on the same items twice; "
        "import both anyway (--keep-overlapping-splits) or drop one "
        "(--drop-split cn/quoted or --drop-split cn/official)"
    ) in message


def test_identical_splits_imported_anyway_are_shown_on_the_card(
    identical_splits: Path, admin_client: Client
):
    output = run_import(identical_splits, "--keep-overlapping-splits")

    assert (
        f"Notice: China/{QUOTED} and zh/{OFFICIAL} share 3 item(s) (identical files; 3 and 3 "
        "items): both imported as asked: their scores are not independent"
    ) in output
    manifest = DatasetRelease.objects.get().manifest
    assert manifest["counts"]["cn/quoted"] == manifest["counts"]["cn/official"] == 3
    assert manifest["overlaps"][0]["shared"] == 3
    html = card(admin_client)
    assert (
        f"<li><code>China/{QUOTED}</code> (cn/quoted, 3) and <code>zh/{OFFICIAL}</code> "
        "(cn/official, 3)\n      share 3 triples: the two files are identical.\n"
        "      Both imported as asked: their scores are not independent.</li>"
    ) in html
    assert cell_row("China · Quoted statements", "China", QUOTED, "3") in html
    assert cell_row("China · Official positions", "zh", OFFICIAL, "3") in html


def test_a_split_dropped_by_the_operator_is_named_on_the_card(
    identical_splits: Path, admin_client: Client
):
    output = run_import(identical_splits, "--drop-split", "cn/official")

    assert "dropped cn/official as asked" in output
    assert "in splits dropped as asked: 3" in output
    release = DatasetRelease.objects.get()
    assert release.manifest["counts"] == {"cn/quoted": 3, "us/quoted": 1, "us/official": 1}
    assert release.manifest["dropped_splits"] == {"cn/official": [f"zh/{OFFICIAL}"]}
    assert not Item.objects.filter(slices__nation="cn", slices__mode="official").exists()
    html = card(admin_client)
    assert (
        "share 3 triples: the two files are identical.\n      Dropped cn/official as asked." in html
    )
    assert (
        cell_row("China · Official positions", "zh", OFFICIAL, "none: 3 dropped as asked") in html
    )
    assert "(3 source records rejected on import)" in html


def test_dropping_a_split_the_release_lacks_is_refused(identical_splits: Path):
    message = refused(identical_splits, "--drop-split", "fr/official")

    assert "no split file holds fr/official to drop (splits: cn/official, cn/quoted, us/" in message
