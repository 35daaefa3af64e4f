"""A NaVAB release laid out as the hub holds it today (China's quoted file under `China/`, its
official file under `zh/`, the two files identical and imported anyway), read on its release
card in headless Chromium as a visitor sees it."""

from __future__ import annotations

import pytest

from leaderboard.catalog.importer import import_release
from tests.navab_files import navab_record, write_navab

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_card_says_where_each_cell_came_from_and_that_two_splits_repeat(
    live_server, page, console, shoot, tmp_path
):
    records = [navab_record(i) for i in range(3)]
    root = write_navab(
        tmp_path / "NaVAB",
        {
            "China/human_statement_result.json": records,
            "zh/official_statement_result.json": records,
            "US/human_statement_result.json": [navab_record(20)],
        },
    )
    import_release(root, version="hub-2026", publish=True, keep_overlapping_splits=True)

    page.goto(f"{live_server.url}/navab/releases/hub-2026/")

    rows = page.locator("#cell-sources tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))"
    )
    assert rows == [
        ["China · Quoted statements", "China/", "human_statement_result.json", "3"],
        ["China · Official positions", "zh/", "official_statement_result.json", "3"],
        ["United States · Quoted statements", "US/", "human_statement_result.json", "1"],
    ]
    warning = page.locator("#split-overlaps")
    assert warning.is_visible()
    assert " ".join(warning.inner_text().split()) == (
        "Split files of this release hold the same triples: "
        "China/human_statement_result.json (cn/quoted, 3) and "
        "zh/official_statement_result.json (cn/official, 3) share 3 triples: the two files are "
        "identical. Both imported as asked: their scores are not independent."
    )
    shoot("release-card-hub-layout")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert console.take() == []
