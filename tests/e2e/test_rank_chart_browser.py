"""The board's whisker chart in headless Chromium: every ranked model's score with its 95%
interval, best first, its scale fitted to the intervals, readable at 1366 px and on a phone
(long names wrapped, no text off the screen)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import evaluate, make_model, make_release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def ranked() -> list[str]:
    release = make_release(per_cell=20, signal=False)
    # A long name, as the hub's are: a phone must still show it whole.
    names = ["org/best", "an-organisation/middle-model-13b-chat", "org/worst"]
    for name, skill in zip(names, (0.9, 0.6, 0.2), strict=True):
        evaluate(make_model(name), release, skill=skill)
    return names


def drawn(page: Any) -> dict[str, Any]:
    page.locator('[data-chart="chart-ranks"] .main-svg').first.wait_for()
    return page.evaluate(
        """() => {
            const chart = document.querySelector('[data-chart="chart-ranks"]');
            const trace = chart._fullData[0];
            return {
                y: [...trace.y], x: [...trace.x],
                plus: [...trace.error_x.array], minus: [...trace.error_x.arrayminus],
                range: [...chart._fullLayout.xaxis.range],
                bars: chart.querySelectorAll("g.errorbar").length,
                right: chart.getBoundingClientRect().right,
                // Text (names, ticks, titles) running off the screen's edges.
                outside: [...chart.querySelectorAll("text")]
                    .filter((t) => t.textContent.trim())
                    .filter((t) => {
                        const r = t.getBoundingClientRect();
                        return r.left < -0.5 || r.right > document.documentElement.clientWidth + 0.5;
                    })
                    .map((t) => t.textContent),
            };
        }"""
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_the_whisker_chart_draws_each_ranked_model_in_rank_order(
    live_server, browser, console, ranked, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.attach(page)
    page.goto(f"{live_server.url}/navab/board/")
    chart = drawn(page)
    assert [y.split("@")[0] for y in chart["y"]] == ranked  # best first, as name@revision
    assert chart["x"] == sorted(chart["x"], reverse=True)
    assert chart["bars"] == len(ranked)  # one whisker per model
    lows = [x - m for x, m in zip(chart["x"], chart["minus"], strict=True)]
    highs = [x + p for x, p in zip(chart["x"], chart["plus"], strict=True)]
    assert chart["range"][0] <= min(lows) and chart["range"][1] >= max(highs)
    assert chart["range"][1] - chart["range"][0] < 1.0  # fitted, not the whole 0-100% scale
    assert chart["right"] <= width
    assert chart["outside"] == []
    caption = page.locator('[data-chart="chart-ranks"] + figcaption').inner_text()
    assert "fitted to the data" in caption
    assert console.take() == []
    context.close()
