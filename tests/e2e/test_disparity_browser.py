"""A visitor reads a DiverValue-Bench model's disparity on its page and on the disparity board
in headless Chromium: the tables render without console errors, the dimension menu switches
the board, the CSV downloads. Screenshots go to test-artifacts/."""

from __future__ import annotations

import csv

import pytest

from tests.factories import dvb_evaluate, dvb_release, make_model

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
SPREAD = {"United Kingdom": 6.0, "Japan": 0.0, "Nigeria": -6.0, "Brazil": 2.0, "Fiji": -9.0}


def test_a_visitor_reads_disparities_on_a_model_page_and_the_disparity_board(
    live_server, page, console, shoot, tmp_path
):
    release = dvb_release()
    job = dvb_evaluate(make_model("org/spread"), release, SPREAD)
    dvb_evaluate(make_model("org/even"), release, dict.fromkeys(SPREAD, 1.0))
    base = live_server.url

    page.goto(f"{base}/models/{job.model_id}/")
    section = page.locator("#disparity-divervalue")
    # Collapsed, it names the widest dimension; open, it shows every one.
    assert "largest by" in section.locator("summary").inner_text()
    section.locator("summary").click()
    table = page.locator("#disparity-divervalue-opa")
    table.wait_for()
    country = table.locator('tr[data-dimension="birth_country"]')
    assert "United Kingdom" in country.inner_text() and "Nigeria" in country.inner_text()
    assert "+1 greyed" in country.inner_text()
    shoot("disparity-01-model-page")
    assert console.take() == []

    country.locator("th a").click()
    page.locator("#disparity-board").wait_for()
    rows = page.locator("#disparity-board tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.model)"
    )
    assert rows == ["org/spread", "org/even"]
    page.select_option("#disparity-dimension", "region")
    page.locator("#disparity-filters button[type=submit]").click()
    page.wait_for_url("**dimension=region**")
    assert "Africa" in page.locator("#disparity-board tbody tr").first.inner_text()
    shoot("disparity-02-board-region")
    assert console.take() == []

    with page.expect_download() as download:
        page.locator("#disparity-filters a.button", has_text="CSV").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "divervalue-dvb-1-disparity-opa-region.csv"
    with path.open() as handle:
        assert [row["model"] for row in csv.DictReader(handle)] == ["org/spread", "org/even"]
    assert console.take() == []
