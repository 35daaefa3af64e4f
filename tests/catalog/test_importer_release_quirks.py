"""The importer on what the published NaVAB release really holds: screening text in
`filter_flag`, unknown keys, long and mixed-script text, German's `source` split, empty splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import ImportFailed, import_release
from leaderboard.catalog.models import Item
from tests.navab_files import navab_record, write_navab

pytestmark = pytest.mark.django_db

US_QUOTED = "US/human_statement_result.json"


def _problems(root: Path) -> list[str]:
    with pytest.raises(ImportFailed) as excinfo:
        import_release(root, version="broken")
    assert not Item.objects.exists()
    return [str(p) for p in excinfo.value.problems]


# --- other fields ---------------------------------------------------------------------------


def test_unknown_keys_are_kept_and_shown_on_the_triple_page(tmp_path: Path, client):
    extra = {
        "stance": "pro",
        "confidence": 0.8,
        "zz_tags": ["trade", "jobs"],
        "b": {"y": 1, "a": 2},
    }
    root = write_navab(tmp_path / "navab", {US_QUOTED: [navab_record(0, **extra)]})

    import_release(root, version="v1", publish=True)
    again = import_release(root, version="v1")

    triple = Item.objects.get()
    assert triple.extra == extra
    # jsonb reorders an object's keys; the content fingerprint must not see that as a change.
    assert again.outcome == "unchanged"
    html = client.get(triple.get_absolute_url()).content.decode()
    assert 'id="extra-fields"' in html
    assert "<code>stance</code></dt><dd>pro</dd>" in html
    assert json.dumps(["trade", "jobs"]).replace('"', "&quot;") in html
    assert 'id="field-filter_flag_text"' in html
    assert "expresses the government&#x27;s stance on public hospitals." in html


def test_long_mixed_script_text_and_long_speakers_are_kept_whole(tmp_path: Path):
    long_statement = "Die Zölle schützen Arbeitsplätze; 关税保护就业; les tarifs protègent. " * 4000
    records = [
        navab_record(0, statement=f"  {long_statement}\n"),
        navab_record(1, source="Ministerin " * 40),
    ]
    root = write_navab(tmp_path / "navab", {US_QUOTED: records})

    import_release(root, version="v1")

    items = {i.source_index: i.data for i in Item.objects.all()}
    assert items[0]["statement"] == long_statement.strip()
    assert items[1]["speaker"] == ("Ministerin " * 40).strip()


# --- German `source` split and empty splits ------------------------------------------------


def test_the_german_source_split_is_its_own_mode_and_says_what_was_left_out(
    navab_dir: Path, admin_client
):
    report = import_release(navab_dir, version="v1")

    source = Item.objects.in_slice("mode", "source").get()
    assert (source.slices["nation"], source.source_file) == ("de", "german/statements.json")
    assert report.counts["de/source"] == 1
    assert report.incomplete == 1
    assert get_benchmark("navab").slice_dimension("mode").unscored == {"source"}
    [notice] = [n for n in report.notices if n.startswith("german/statements.json")]
    assert "1 of 2 record(s) are not complete triples" in notice
    assert "#1 (missing key 'generated Q'; missing key 'generated reverse statement')" in notice

    html = admin_client.get(reverse("release-detail", args=["navab", "v1"])).content.decode()
    assert "german/statements.json" in html
    assert "<td>de/source</td>" in html
    assert 'id="import-notices"' in html
    assert "1 of 2 record(s) are not complete triples" in html
    assert 'id="unevaluated-modes"' in html


def test_the_source_mode_is_not_offered_on_the_board(navab_dir: Path, client):
    import_release(navab_dir, version="v1", publish=True)

    response = client.get(reverse("board", args=["navab"]))

    assert response.status_code == 200
    (mode,) = response.context["slice_tabs"]
    assert [tab.label for tab in mode.tabs] == ["Quoted statements", "Official positions"]
    assert client.get(reverse("board", args=["navab"]), {"mode": "source"}).status_code == 404


def test_an_empty_split_is_a_notice_and_an_empty_cell_on_the_card(navab_dir: Path, admin_client):
    write_navab(navab_dir, {"UK/official_statement_result.json": []})

    report = import_release(navab_dir, version="v1")

    assert "UK/official_statement_result.json: empty split (no records)" in " ".join(report.notices)
    assert report.counts["uk/official"] == 0
    html = admin_client.get(reverse("release-detail", args=["navab", "v1"])).content.decode()
    assert "UK/official_statement_result.json: empty split" in html
    assert 'aria-label="United Kingdom, Official positions: 0 items">0</a>' in html
