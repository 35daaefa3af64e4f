"""The job page in headless Chromium: progress and the timeline update live, then the page
shows the final state by itself; the dataset pages render without console errors."""

from __future__ import annotations

import threading

import pytest

from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel
from tests.factories import make_release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_running_job_page_updates_live_and_settles_on_the_result(
    live_server, page, console, shoot
):
    release = make_release("live", per_cell=1)
    model = LanguageModel.objects.create(name="org/live", revision="b" * 40)
    job = EvaluationJob.objects.create(
        model=model, release=release, status=JobStatus.QUEUED, celery_task_id="t"
    )
    lifecycle.claim(job.pk, "t", "gpu-host-1")
    page.goto(live_server.url + job.get_absolute_url())
    assert "Running" in page.locator("#job-status").inner_text()

    lifecycle.progress_reporter(job, "t", threading.Event())("MC log-likelihoods", 7, 20)
    page.wait_for_function(
        "document.getElementById('job-progress-label').textContent.includes('7 / 20')"
    )
    assert page.locator("#job-progress").get_attribute("value") in ("35", None)
    shoot("job-running")

    lifecycle.fail(job.pk, "t", "model", "tokenizer.json is missing")
    page.wait_for_function(
        "document.getElementById('job-status').textContent.includes('Failed')", timeout=20_000
    )
    # Then the page reloads itself into its final, server-rendered state.
    page.wait_for_selector("#job[data-active='0']", timeout=20_000)
    assert "tokenizer.json is missing" in page.locator("#job-failure").inner_text()
    shoot("job-failed")
    assert console.take() == []


def test_the_dataset_pages_render_without_console_errors(live_server, page, console, shoot):
    release = make_release("pages", per_cell=3)
    triple = release.items.first()
    for name, path in [
        ("home", "/"),
        ("browse", "/navab/items/?nation=us&mode=quoted"),
        ("triple", triple.get_absolute_url()),
        ("releases", "/navab/releases/"),
        ("board", "/navab/board/"),
        ("release", release.get_absolute_url()),
        ("queue", "/queue/"),
        ("methodology", "/navab/methodology/"),
        ("divervalue-methodology", "/divervalue/methodology/"),
        ("api-docs", "/api/docs/"),
    ]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        shoot(f"page-{name}")
        assert console.take() == [], path
