"""The judges page's and the agreement page's charts in headless Chromium at 1366 px and on a
390 px phone: every model and judge labelled by name, the share or difference axis fitted to
the data (zero kept on the difference axis), nothing wider than the screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.boards.test_agreement import verdicts
from tests.boards.test_judges_page import paa_results
from tests.factories import dvb_release, finished_job, make_model, make_release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Long names, as the hub's are: a phone must still show them whole.
SWAYED, UNANIMOUS = "an-organisation/swayed-model-7b-instruct", "org/unanimous"
STEADY, SPLIT = "an-organisation/steady-model-13b-chat", "org/split"


@pytest.fixture
def judged() -> None:
    release = dvb_release()
    # j1 and j2 say W, j3 L: the panel's 100% rests on two of three judges.
    paa_results(
        finished_job(make_model(SWAYED), release, methods=["paa"]),
        lambda i: {"judge-one": "W", "judge-two": "W", "judge-three": "L"},
    )
    # Unanimous, W on every other answer.
    paa_results(
        finished_job(make_model(UNANIMOUS), release, methods=["paa"]),
        lambda i: dict.fromkeys(("judge-one", "judge-two", "judge-three"), "L" if i % 2 else "W"),
    )


@pytest.fixture
def paired() -> None:
    release = make_release(per_cell=4, signal=False)
    mixed = {"cn": True, "us": False, "uk": True, "fr": False, "de": True}
    job = finished_job(make_model(STEADY), release, methods=["mc", "aj"])
    verdicts(job, "mc", mixed)
    verdicts(job, "aj", mixed)
    job = finished_job(make_model(SPLIT), release, methods=["mc", "aj"])
    verdicts(job, "mc", True)  # MC aligned everywhere, AJ only in the US: -80 points
    verdicts(job, "aj", {"us": True})


def open_page(browser: Any, console: Any, width: int, url: str, chart: str) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.attach(page)
    page.goto(url)
    page.locator(f'[data-chart="{chart}"] .main-svg').first.wait_for()
    return page


def drawn(page: Any, chart: str) -> dict[str, Any]:
    """What the chart draws: its traces, axis range, the text it shows and whether any text or
    the chart itself leaves the screen."""
    return page.evaluate(
        """(chart) => {
            const holder = document.querySelector(`[data-chart="${chart}"]`);
            const width = document.documentElement.clientWidth;
            const texts = [...holder.querySelectorAll("text")].filter((t) => t.textContent.trim());
            const outside = texts
                .map((t) => [t.textContent, t.getBoundingClientRect()])
                .filter(([, r]) => r.left < -0.5 || r.right > width + 0.5)
                .map(([text]) => text);
            const box = (selector) => {
                const rects = [...holder.querySelectorAll(selector)].map((e) => e.getBoundingClientRect());
                return rects.length ? {
                    top: Math.min(...rects.map((r) => r.top)), bottom: Math.max(...rects.map((r) => r.bottom)),
                    left: Math.min(...rects.map((r) => r.left)), right: Math.max(...rects.map((r) => r.right)),
                } : null;
            };
            const legendBox = box(".legend .traces"), titleBox = box(".g-xtitle text");
            const overlap = (a, b) => !!a && !!b && a.left < b.right && b.left < a.right
                && a.top < b.bottom && b.top < a.bottom;
            return {
                legendOverTitle: overlap(legendBox, titleBox),
                traces: holder._fullData.map((t) => ({
                    name: t.name, x: [...t.x], y: [...t.y],
                    plus: t.error_x && t.error_x.array ? [...t.error_x.array] : [],
                    minus: t.error_x && t.error_x.arrayminus ? [...t.error_x.arrayminus] : [],
                })),
                range: [...holder._fullLayout.xaxis.range],
                // Top to bottom as a reader sees them (the DOM order is plotly's own).
                ticks: [...holder.querySelectorAll(".ytick text")]
                    .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
                    .map((t) => t.textContent),
                legend: [...holder.querySelectorAll(".legendtext")].map((t) => t.textContent),
                outside,
                right: holder.getBoundingClientRect().right,
                pageWidth: document.documentElement.scrollWidth,
                width,
            };
        }""",
        chart,
    )


def fits(chart: dict[str, Any]) -> None:
    assert chart["outside"] == [], chart["outside"]
    assert chart["right"] <= chart["width"]
    assert chart["pageWidth"] <= chart["width"]  # the page itself never scrolls sideways
    assert not chart["legendOverTitle"]


@pytest.mark.parametrize("width", [1366, 390])
def test_the_judges_chart_shows_each_judge_and_the_panel_by_name(
    live_server, browser, console, judged, width
):
    page = open_page(
        browser, console, width, f"{live_server.url}/divervalue/judges/", "chart-judges"
    )
    chart = drawn(page, "chart-judges")
    fits(chart)
    assert chart["legend"] == ["Panel", "judge-one", "judge-three", "judge-two"]
    # Models by name, the panel's first rank on top.
    assert [t.split("@")[0] for t in chart["ticks"]] == [SWAYED, UNANIMOUS]
    panel = next(t for t in chart["traces"] if t["name"] == "Panel")
    assert panel["x"] == [1.0, 0.5]
    three = next(t for t in chart["traces"] if t["name"] == "judge-three")
    assert three["x"] == [0.0, 0.5]
    # Fitted to the shares drawn (0% to 100% here), never beyond the metric's 0-1.
    assert chart["range"][0] <= 0.0 and chart["range"][1] >= 1.0
    assert chart["range"][0] >= 0.0 - 1e-9 and chart["range"][1] <= 1.0 + 1e-9
    caption = page.locator('[data-chart="chart-judges"] + figcaption').inner_text()
    assert "fitted to the data" in caption
    assert console.take() == []
    page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_agreement_chart_draws_each_difference_with_its_interval_and_zero(
    live_server, browser, console, paired, width
):
    url = f"{live_server.url}/navab/agreement/"
    page = open_page(browser, console, width, url, "chart-agreement-diff")
    chart = drawn(page, "chart-agreement-diff")
    fits(chart)
    # The flagged model first, as in the table, each by name.
    assert [t.split("@")[0] for t in chart["ticks"]] == [SPLIT, STEADY]
    assert chart["legend"] == ["Differ beyond the interval", "Within the interval"]
    flagged = next(t for t in chart["traces"] if t["name"] == "Differ beyond the interval")
    assert flagged["x"] == [pytest.approx(-0.8)]
    assert flagged["x"][0] + flagged["plus"][0] < 0  # its interval misses zero
    within = next(t for t in chart["traces"] if t["name"] == "Within the interval")
    assert within["x"] == [0.0]
    lows = [x - m for t in chart["traces"] for x, m in zip(t["x"], t["minus"], strict=True)]
    low, high = chart["range"]
    # Fitted: the flagged interval and zero inside, not a fixed -100% to +100%.
    assert low <= min(lows) and high >= 0.0 and high - low < 1.5
    caption = page.locator('[data-chart="chart-agreement-diff"] + figcaption').inner_text()
    assert "fitted to the intervals and zero" in caption
    assert console.take() == []
    page.context.close()
