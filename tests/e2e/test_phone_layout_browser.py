"""Pages on a phone (390 px) in headless Chromium: nothing scrolls sideways (wide tables scroll
inside themselves), the board's table starts on the first screen, and long sections are
folded so a job page (a score row per slice) or a compare page is not ten screens tall."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel
from tests.factories import make_model, score_slices

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site() -> dict[str, Any]:
    demo = import_release(
        get_benchmark("divervalue").demo_dir,
        benchmark="divervalue",
        version="dvb-demo",
        licence="cc-by-4.0",
        publish=True,
    ).release
    first, second = make_model("org/first-model-with-a-long-name"), make_model("org/second")
    job = score_slices(first, demo, skill=0.4)
    score_slices(second, demo, skill=0.6)
    waiting = LanguageModel.objects.create(name="org/a-queued-model-name", revision="c" * 40)
    EvaluationJob.objects.create(model=waiting, release=demo, status=JobStatus.QUEUED)
    busy = LanguageModel.objects.create(name="org/a-running-model-name", revision="d" * 40)
    running = EvaluationJob.objects.create(
        model=busy, release=demo, status=JobStatus.RUNNING, worker_host="gpu-worker-1@host"
    )
    running.progress_stage, running.progress_done, running.progress_total = "opa", 3, 20
    running.save()
    return {"job": job, "running": running, "models": (first, second)}


@pytest.fixture
def phone(browser: Any, console: Any) -> Any:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.attach(page)
    yield page
    context.close()


def measure(page: Any) -> dict[str, int]:
    return page.evaluate(
        """() => ({
            width: document.documentElement.scrollWidth,
            height: document.documentElement.scrollHeight,
        })"""
    )


def test_no_page_scrolls_sideways_and_long_sections_fold_on_a_phone(
    live_server, phone, console, site
):
    first, second = site["models"]
    pages = {
        "queue": "/queue/",
        "job": site["job"].get_absolute_url(),
        "running job": site["running"].get_absolute_url(),
        "board": "/divervalue/board/",
        "model": first.get_absolute_url(),
        "compare": f"/divervalue/compare/?models={first.pk},{second.pk}",
    }
    sizes = {}
    for name, path in pages.items():
        phone.goto(live_server.url + path)
        phone.wait_for_load_state("load")
        sizes[name] = measure(phone)
        assert sizes[name]["width"] <= PHONE["width"], (name, sizes[name])

    # The job's score rows and the compare page's sections are folded, not gone.
    assert sizes["job"]["height"] < 3 * PHONE["height"], sizes
    assert sizes["compare"]["height"] < 3 * PHONE["height"], sizes
    phone.goto(live_server.url + pages["job"])
    phone.locator("#job-scores > summary").click()
    assert phone.locator("#job-scores table tbody tr").count() > 50
    assert measure(phone)["width"] <= PHONE["width"]

    # The board's table starts about one screen down (the filters put it two screens down),
    # its filters one tap away.
    phone.goto(live_server.url + pages["board"])
    top = phone.locator("#board-table").evaluate("t => t.getBoundingClientRect().top")
    assert top < 1.1 * PHONE["height"], top
    phone.locator("#board-filters-fold > summary").click()
    assert phone.locator("#board-q").is_visible()
    assert console.take() == []
