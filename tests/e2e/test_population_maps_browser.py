"""DiverValue-Bench's world maps and radars in headless Chromium with every request to another
host aborted: the maps must draw from the site's own static files (plotly.js and its
topojson), coloured by score, and nothing may try to reach cdn.plot.ly or anywhere else."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release
from tests.factories import make_model, score_slices

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def models():
    demo = import_release(
        get_benchmark("divervalue").demo_dir,
        benchmark="divervalue",
        version="dvb-demo",
        licence="cc-by-4.0",
        publish=True,
    ).release
    low, high = make_model("org/low"), make_model("org/high")
    score_slices(low, demo, skill=0.3, by_value={"Japan": 0.9})
    score_slices(high, demo, skill=0.7, by_value={"Kenya": 0.1})
    return {"low": low, "high": high}


def offline(page, base: str) -> list[str]:
    """Abort every request to a host other than the test server; return what was tried."""
    own = urlparse(base).netloc
    attempted: list[str] = []

    def handle(route) -> None:
        url = route.request.url
        if urlparse(url).netloc == own:
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    page.route("**/*", handle)
    return attempted


def map_fills(page, chart_id: str, attempted: list[str]) -> list[str]:
    """The fill of every country shape the choropleth drew."""
    holder = page.locator(f'[data-chart="{chart_id}"]')
    try:
        holder.locator("path.choroplethlocation").first.wait_for()
    except Exception as exc:  # Playwright's TimeoutError: say what the page tried to fetch
        pytest.fail(f"{chart_id} drew no country ({exc}); requests blocked: {attempted}")
    return holder.locator("path.choroplethlocation").evaluate_all(
        "paths => paths.map(p => getComputedStyle(p).fill)"
    )


def test_the_maps_and_radars_draw_from_static_files_with_other_hosts_blocked(
    live_server, page, console, shoot, models
):
    base = live_server.url
    attempted = offline(page, base)

    page.goto(f"{base}{models['low'].get_absolute_url()}")
    fills = map_fills(page, "chart-divervalue-map", attempted)
    # Ten countries coloured by their score and five grey ones with too few items.
    assert len(fills) == 15
    grey = [f for f in fills if f == "rgb(199, 203, 209)"]
    assert len(grey) == 5
    assert len(set(fills) - set(grey)) >= 2  # the scores differ, and so do their colours
    for key in ("region", "age", "gender", "education", "marital_status"):
        page.locator(f'[data-chart="chart-divervalue-radar-{key}"] .main-svg').first.wait_for()
    assert page.locator("#chart-divervalue-map-notes").inner_text().count("Prefer not to say")
    shoot("population-01-model-map")

    # The board links the map of the mean over ranked models.
    page.goto(f"{base}/divervalue/board/")
    page.locator("#world-map-link").click()
    page.wait_for_url("**/divervalue/map/**")
    assert len(map_fills(page, "chart-board-map", attempted)) == 15
    assert "mean over 2 ranked models" in page.locator("figcaption").first.inner_text()
    shoot("population-02-board-map")

    assert attempted == []
    assert console.take() == []
