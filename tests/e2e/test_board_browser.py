"""A visitor's path through the boards in headless Chromium: a nation's board, sorting,
filters, columns, a model's page and its wrong answers, a comparison and a CSV download.
Every page must render without console errors; screenshots go to test-artifacts/."""

from __future__ import annotations

import csv
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.factories import evaluate, make_model, make_release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def models():
    release = make_release("r1", per_cell=4, signal=False)
    alpha = make_model("org/alpha-7b", model_type="instruct", family="alpha", params_billions=7.0)
    beta = make_model("org/beta-1b", family="beta", params_billions=1.3)
    gamma = make_model("org/gamma-13b", family="gamma", params_billions=13.0)
    partial = make_model("org/partial", params_billions=3.0)
    evaluate(alpha, release, skill=0.85)
    evaluate(beta, release, skill=0.55)
    evaluate(gamma, release, skill=0.3)
    evaluate(partial, release, skill=0.6, nations=["us"])
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "partial": partial}


def board_rows(page) -> list[str]:
    return page.locator("#board-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.model)"
    )


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query, keep_blank_values=True)


def test_a_visitor_browses_sorts_filters_inspects_compares_and_downloads(
    live_server, page, console, shoot, models
):
    base = live_server.url

    # A nation's board, with its charts drawn by the locally served plotly.js.
    page.goto(f"{base}/navab/board/?nation=us")
    assert board_rows(page)[0] == "org/alpha-7b"
    assert len(board_rows(page)) == 4  # org/partial has US scores: ranked here
    page.locator('[data-chart="chart-heatmap"] .main-svg').first.wait_for()
    page.locator('[data-chart="chart-params"] .main-svg').first.wait_for()
    page.locator('[data-chart="chart-agreement"] .main-svg').first.wait_for()
    shoot("01-board-us")
    assert console.take() == []

    # Sort by name, then reverse it: the URL carries the state.
    page.locator('th[data-sort-key="name"] a').click()
    page.wait_for_url(re.compile(r"sort=name"))
    assert board_rows(page) == ["org/alpha-7b", "org/beta-1b", "org/gamma-13b", "org/partial"]
    page.locator('th[data-sort-key="name"] a').click()
    page.wait_for_url(re.compile(r"order=desc"))
    assert board_rows(page) == ["org/partial", "org/gamma-13b", "org/beta-1b", "org/alpha-7b"]
    assert console.take() == []

    # Filters apply on change; search on submit.
    page.locator('input[name="type"][value="base"]').check()
    page.wait_for_url(re.compile(r"type=base"))
    assert board_rows(page) == ["org/partial", "org/gamma-13b", "org/beta-1b"]
    page.locator("#board-q").fill("beta")
    page.locator("#board-q").press("Enter")
    page.wait_for_url(re.compile(r"q=beta"))
    assert board_rows(page) == ["org/beta-1b"]
    assert query(page)["sort"] == ["name"] and query(page)["nation"] == ["us"]

    # The column chooser shows a column at once and writes the choice into the URL.
    family_header = page.locator("#board-table th.col-family")
    assert not family_header.is_visible()
    page.locator("#column-chooser summary").click()
    page.locator('input[data-column][value="family"]').check()
    assert family_header.is_visible()
    assert "family" in query(page)["col"]
    shoot("02-board-filtered")
    assert console.take() == []

    # A model's page: scores, radar, card; then its wrong answers only.
    page.get_by_role("link", name=models["beta"].display_name).click()
    page.wait_for_url(re.compile(rf"/models/{models['beta'].pk}/"))
    page.locator('[data-chart="chart-radar-navab"] .main-svg').first.wait_for()
    assert page.locator("#score-grid tbody tr").count() == 5
    page.locator("#reproduce summary").click()  # the card opens on demand
    assert page.get_by_text("lm_eval run --model hf").first.is_visible()
    shoot("03-model")
    page.locator('input[name="wrong"]').check()
    page.locator("#ex-nation").select_option("us")
    page.get_by_role("button", name="Show").first.click()
    page.wait_for_url(re.compile(r"wrong=1"))
    examples = page.locator("#examples-list li.example")
    assert examples.count() > 0
    assert page.locator("#examples-list li.example-right").count() == 0
    assert "United States" in examples.first.inner_text()
    shoot("04-wrong-answers")
    assert console.take() == []

    # Compare two models ticked on the board.
    page.goto(f"{base}/navab/board/")
    page.locator(f'#board-table input[value="{models["alpha"].pk}"]').check()
    page.locator(f'#board-table input[value="{models["gamma"].pk}"]').check()
    page.locator("#compare-button").click()
    page.wait_for_url(re.compile(r"/compare/"))
    assert query(page)["models"] == [f"{models['alpha'].pk},{models['gamma'].pk}"]
    assert page.locator("#compare-table tbody tr").count() == 20
    assert page.locator("#disagreements-list li.example").count() > 0
    shoot("05-compare")
    assert console.take() == []

    # Download the filtered board as CSV: the same rows as the table.
    page.goto(f"{base}/navab/board/?nation=us&type=base")
    shown = board_rows(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename == "navab-r1-us-quoted-mc.csv"
    with open(download.path(), encoding="utf-8") as handle:
        assert [row["model"] for row in csv.DictReader(handle)] == shown

    # The methodology page, with its prompts and commands.
    page.goto(f"{base}/navab/methodology/")
    assert page.locator("#prompt-1").inner_text().startswith("This is a multiple choice question.")
    shoot("06-methodology")
    assert console.take() == []


def overflow(page, selector: str) -> int:
    """How many pixels the element's content is wider than the element."""
    return page.locator(selector).evaluate("el => el.scrollWidth - el.clientWidth")


def test_the_board_fits_1366_pixels_with_every_column_and_the_model_page_stays_short(
    live_server, browser, console, models, tmp_path
):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    console.attach(page)
    try:
        every_column = "&".join(
            f"col={c}"
            for c in ("params", "type", "precision", "ci", "n", "posneg", "family", "revision")
        )
        page.goto(f"{live_server.url}/navab/board/?{every_column}")
        page.screenshot(path=str(SCREENSHOTS / "07-board-1366.png"), full_page=True)
        assert page.locator("#board-table th.col-revision").is_visible()
        assert overflow(page, ".table-wrap") <= 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366

        # Every per-example result of a job is on its page, paged and collapsed.
        page.goto(f"{live_server.url}/models/{models['alpha'].pk}/")
        page.screenshot(path=str(SCREENSHOTS / "08-model-1366.png"), full_page=True)
        assert page.locator("#examples-list li.example").count() == 25
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 4000, height  # it was about 10,000 px with every example inline
        first = page.locator("#examples-list li.example > details").first
        first.locator("summary.example-head").click()
        assert first.locator("dl").is_visible()
        assert console.take() == []
    finally:
        context.close()

    # On a phone the page itself never scrolls sideways: wide tables scroll in their frame.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    try:
        for path in ("/navab/board/", f"/models/{models['alpha'].pk}/"):
            page.goto(f"{live_server.url}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    finally:
        phone.close()
