"""Charts in headless Chromium at 1366 px and at a phone's 390 px: scales fit the data (OPA's
0.0-0.1 on a 0-1 axis was one flat line, a 0-100% map one colour) and say so in the caption;
radar tick labels stay off the slice names; on a phone the map is wide and its colour bar
under it, and no chart is wider than the screen."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release
from tests.factories import make_model, score_slices

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Scores of a model far from alignment: OPA between 0 and about 0.2.
LOW = {"Japan": 0.2, "Kenya": 0.01, "Brazil": 0.12, "Germany": 0.06}


@pytest.fixture
def models() -> dict[str, Any]:
    demo = import_release(
        get_benchmark("divervalue").demo_dir,
        benchmark="divervalue",
        version="dvb-demo",
        licence="cc-by-4.0",
        publish=True,
    ).release
    small, large = make_model("org/small", params_billions=1.0), make_model("org/large")
    score_slices(small, demo, skill=0.05, by_value=LOW)
    score_slices(large, demo, skill=0.08, by_value={**LOW, "Kenya": 0.15})
    return {"small": small, "large": large}


def at(browser: Any, console: Any, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.attach(page)
    return page


def drawn(page: Any, chart: str) -> None:
    page.locator(f'[data-chart="{chart}"] .main-svg').first.wait_for()


def layout(page: Any, chart: str, path: str) -> Any:
    return page.evaluate(
        f"""() => {{
            const value = document.querySelector('[data-chart="{chart}"]')._fullLayout.{path};
            return JSON.parse(JSON.stringify(value));
        }}"""
    )


def box(page: Any, selector: str) -> dict[str, float]:
    """The union of the bounding boxes of every element SELECTOR matches."""
    return page.evaluate(
        """(selector) => {
            const rects = [...document.querySelectorAll(selector)].map((e) => e.getBoundingClientRect());
            const left = Math.min(...rects.map((r) => r.left)), top = Math.min(...rects.map((r) => r.top));
            const right = Math.max(...rects.map((r) => r.right)), bottom = Math.max(...rects.map((r) => r.bottom));
            return {width: right - left, height: bottom - top, count: rects.length};
        }""",
        selector,
    )


def overlapping_labels(page: Any, chart: str) -> list[str]:
    """Radial tick labels that overlap an angular (slice name) label."""
    return page.evaluate(
        """(chart) => {
            const holder = document.querySelector(`[data-chart="${chart}"]`);
            const ticks = [...holder.querySelectorAll(".radial-axis text")].filter((t) => t.textContent);
            const names = [...holder.querySelectorAll(".angular-axis text")].filter((t) => t.textContent);
            const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
            const out = [];
            for (const t of ticks) for (const n of names) {
                if (hit(t.getBoundingClientRect(), n.getBoundingClientRect())) out.push(`${t.textContent} on ${n.textContent}`);
            }
            return out;
        }""",
        chart,
    )


def test_scales_fit_the_data_and_the_caption_states_them(live_server, browser, console, models):
    page = at(browser, console, 1366)
    page.goto(f"{live_server.url}/divervalue/board/")
    drawn(page, "chart-params")
    low, high = layout(page, "chart-params", "yaxis.range")
    assert low >= 0 and high <= 0.5, (low, high)  # not the metric's 0-1
    caption = page.locator('[data-chart="chart-params"] + figcaption').inner_text()
    assert "fitted to the data" in caption and "0.0%-100.0%" in caption

    page.goto(f"{live_server.url}/divervalue/map/")
    drawn(page, "chart-board-map")
    # The countries are drawn after the map's outline fetches, so its svg can be there without them.
    page.locator('[data-chart="chart-board-map"] path.choroplethlocation').first.wait_for()
    zmax = page.evaluate(
        "() => document.querySelector('[data-chart=\"chart-board-map\"]')._fullData[0].zmax"
    )
    assert zmax <= 0.5
    fills = page.locator('[data-chart="chart-board-map"] path.choroplethlocation').evaluate_all(
        "paths => paths.map(p => getComputedStyle(p).fill)"
    )
    assert len(set(fills) - {"rgb(199, 203, 209)"}) >= 3  # scores differ, and so do colours
    assert "The colour scale runs from" in page.locator("figcaption").first.inner_text()

    page.goto(f"{live_server.url}{models['small'].get_absolute_url()}")
    for key in ("region", "age", "gender", "education"):
        chart = f"chart-divervalue-radar-{key}"
        drawn(page, chart)
        assert layout(page, chart, "polar.radialaxis.range")[1] <= 0.5
        assert overlapping_labels(page, chart) == [], chart
    assert console.take() == []


def test_every_chart_reads_on_a_390_px_screen(live_server, browser, console, models):
    page = at(browser, console, 390)
    page.goto(f"{live_server.url}{models['small'].get_absolute_url()}")
    drawn(page, "chart-divervalue-map")
    world = box(page, '[data-chart="chart-divervalue-map"] g.land path')
    bar = box(page, '[data-chart="chart-divervalue-map"] g.colorbar')
    assert world["width"] >= 280, world  # was 170 x 110
    assert bar["height"] < world["height"], (bar, world)  # the bar lies under the map
    for key in ("region", "age", "gender", "education", "marital_status"):
        chart = f"chart-divervalue-radar-{key}"
        drawn(page, chart)
        circle = box(page, f'[data-chart="{chart}"] .polarlayer path')
        assert circle["width"] >= 200, (chart, circle)
        assert overlapping_labels(page, chart) == [], chart
    for path in ("/divervalue/board/", "/divervalue/map/", models["small"].get_absolute_url()):
        page.goto(live_server.url + path)
        page.locator(".main-svg").first.wait_for()
        widths = page.locator("[data-chart]").evaluate_all(
            "charts => charts.map(c => c.getBoundingClientRect().right)"
        )
        assert max(widths) <= 390, (path, widths)
    assert console.take() == []
