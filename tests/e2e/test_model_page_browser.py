"""The publisher's run on its model page in headless Chromium: labelled, with what its import
could not read, its map drawn from its per-item verdicts, the publisher's figure beside the
site's recomputed one with the difference, and the board's reported row leading to it."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LABEL = "(run and judged by the publisher, not run here)"
DEMO_RUN = (
    get_benchmark("divervalue").demo_dir.parent
    / "publisher_run_demo"
    / "demo-model-a_multi_value_judge_pairwise_polyjudge_recomputed.json"
)


@pytest.fixture
def run(tmp_path):
    release = import_release(
        get_benchmark("divervalue").demo_dir,
        benchmark="divervalue",
        version="dvb-demo",
        licence="cc-by-4.0",
        publish=True,
    ).release
    reported = tmp_path / "reported.json"
    reported.write_text(
        json.dumps(
            {
                "benchmark": "divervalue",
                "source": {"paper": "A test paper"},
                "results": [
                    {"release": "all demo items", "model": "Model A", "method": "paa",
                     "values": {"paa": 0.6}, "n": 168, "comparable": False},
                ],
            }
        )
    )  # fmt: skip
    call_command("import_reported", str(reported))
    call_command(
        "import_publisher_run", str(DEMO_RUN), release=release.version, reported_as="Model A"
    )
    return release


def test_the_publishers_run_is_labelled_mapped_and_set_beside_its_figure(
    live_server, page, console, shoot, run
):
    base = live_server.url
    page.goto(f"{base}/divervalue/board/?method=paa")
    # Not ranked: the board's reported row leads to the run instead.
    assert page.locator("tr[data-model^='demo-model-a']").count() == 0
    page.locator("#reported-table [data-publisher-run]").click()
    page.wait_for_url("**/models/**")

    assert page.locator("h1").inner_text() == f"demo-model-a {LABEL}"
    notice = page.locator("#publisher-run").inner_text()
    assert "Run and judged by the publisher, not run here." in notice
    assert "169 records, 168 matched" in notice and "demo-not-in-release" in notice
    assert "DeepSeek-V3-Fast: missing from 1 record" in notice
    page.locator('[data-chart="chart-divervalue-map"] path.choroplethlocation').first.wait_for()

    row = page.locator("#model-reported-table tr[data-metric='paa']")
    assert "Model A" in row.locator("th").inner_text()
    site = row.locator("[data-site]").inner_text()
    assert "n=168" in site
    # The site's recomputed W share of the demo run (116 of 168) minus the 60% reported.
    assert row.locator("[data-difference]").inner_text().startswith("+9.0")
    shoot("model-page-01-publisher-run")

    page.locator("#job-history a").first.click()
    page.wait_for_url("**/jobs/**")
    assert (
        "Run and judged by the publisher, not run here"
        in page.locator("#publisher-run").inner_text()
    )
    assert page.locator("a", has_text="Re-run").count() == 0
    assert console.take() == []
