"""Boards cost a constant number of queries, and their cache follows the results."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.results import EvaluationResult, ReproCard, ScoreRow
from leaderboard.boards.cache import board_version, invalidate_boards
from leaderboard.boards.models import BoardVersion
from leaderboard.evals.models import AlignmentJob, EvaluationJob, JobKind, JobStatus
from leaderboard.evals.runner import store_results
from tests.factories import MODES, NATIONS, make_model, ranked_model, repro_card

pytestmark = pytest.mark.django_db
PAGE = reverse("board", args=["navab"])
API = "/api/leaderboard/"


def queries_for(client, url, params=None) -> int:
    invalidate_boards()  # count the cold path: the board is built, not read from a cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


def add_models(release, start: int, stop: int) -> None:
    for i in range(start, stop):
        ranked_model(f"org/model-{i:02d}", release, 0.3 + i / 100, params_billions=1.0 + i)


@pytest.mark.parametrize("url", [PAGE, API])
@pytest.mark.parametrize("params", [{}, {"nation": "us", "type": "base", "sort": "params"}])
def test_the_board_costs_the_same_queries_for_3_and_30_models(client, release, url, params):
    add_models(release, 0, 3)
    with_3 = queries_for(client, url, params)
    add_models(release, 3, 30)
    with_30 = queries_for(client, url, params)
    assert with_3 == with_30
    # A handful: view state, board version, board (the jobs scored, the cells chosen, their
    # scores, the cell's items and the packed per-item values its rank ranges resample; and
    # the other method's board, for the agreement chart), the publishers' reported results
    # and runs, page chrome.
    assert with_30 <= 31


def test_a_cold_board_reads_the_scores_of_its_own_cells_only(client, release):
    """The cells a board shows are named by the release; a cold build that learnt them from
    every model's scores read all of them (85,000 rows at 1,000 models on DiverValue-Bench)."""
    add_models(release, 0, 3)
    invalidate_boards()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE, {"nation": "us"}).status_code == 200
    scans = [
        q["sql"]
        for q in captured.captured_queries
        if 'DISTINCT "evals_score"."slice_key"' in q["sql"]
    ]
    assert scans == []


def test_a_cold_board_and_its_other_methods_board_read_the_cells_items_once(client, release):
    """NaVAB's board builds its other method's board for the agreement chart: both rank
    spreads resample the same cell's items, read once (63,400 items on the full release)."""
    add_models(release, 0, 3)
    invalidate_boards()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE).status_code == 200
    reads = [
        q for q in captured.captured_queries if q["sql"].startswith('SELECT "benchmark_item"."id"')
    ]
    assert len(reads) == 1


def test_a_cached_board_reads_no_scores(client, release):
    add_models(release, 0, 3)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as captured:
        client.get(PAGE)
    assert not [q for q in captured.captured_queries if "evals_score" in q["sql"]]


def scored_result(model, release, value: float) -> EvaluationResult:
    rows = [
        ScoreRow(
            slices={"nation": nation, "mode": mode},
            method=method,
            metric="acc",
            value=value,
            n=100,
            stderr=0.01,
            ci_low=value - 0.02,
            ci_high=value + 0.02,
            parts={"pos": {"value": value, "n": 50}, "neg": {"value": value, "n": 50}},
        )
        for nation in NATIONS
        for mode in MODES
        for method in ("mc", "aj")
    ]
    return EvaluationResult(
        scores=rows, samples=[], card=ReproCard(**repro_card(model, release, ["mc", "aj"]))
    )


def running_job(model, release) -> EvaluationJob:
    return EvaluationJob.objects.create(
        model=model,
        release=release,
        status=JobStatus.RUNNING,
        celery_task_id="token-1",
        methods=["mc", "aj"],
    )


def board_models(client) -> list[str]:
    return [r["model"] for r in client.get(API).json()["results"]]


def test_storing_a_jobs_results_invalidates_boards_after_commit(
    client, release, tmp_path: Path, django_capture_on_commit_callbacks
):
    ranked_model("org/old", release, 0.5)
    newcomer = make_model("org/newcomer")
    assert board_models(client) == ["org/old"]  # now cached
    job = running_job(newcomer, release)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert store_results(job, "token-1", scored_result(newcomer, release, 0.9), tmp_path)
    assert board_models(client) == ["org/old"]  # committed scores, not yet invalidated: cached

    for callback in callbacks:
        callback()
    assert board_models(client) == ["org/newcomer", "org/old"]


def test_a_stale_delivery_stores_nothing_and_keeps_the_cache(
    client, release, tmp_path, django_capture_on_commit_callbacks
):
    model = make_model("org/model")
    job = running_job(model, release)
    with django_capture_on_commit_callbacks() as callbacks:
        assert not store_results(job, "another-token", scored_result(model, release, 0.9), tmp_path)
    assert callbacks == []


def test_editing_a_model_invalidates_boards(client, release, django_capture_on_commit_callbacks):
    model = ranked_model("org/before", release, 0.5)
    assert board_models(client) == ["org/before"]
    with django_capture_on_commit_callbacks(execute=True):
        model.name = "org/after"
        model.save()
    assert board_models(client) == ["org/after"]


def test_deleting_a_job_invalidates_boards(client, release, django_capture_on_commit_callbacks):
    model = ranked_model("org/gone", release, 0.5)
    assert board_models(client) == ["org/gone"]
    with django_capture_on_commit_callbacks(execute=True):
        model.jobs.all().delete()
    assert board_models(client) == []


def test_deleting_an_alignment_job_through_its_proxy_invalidates_boards(
    release, django_capture_on_commit_callbacks
):
    model = ranked_model("org/aligner", release, 0.5)
    job = model.jobs.get()
    job.kind = JobKind.ALIGN
    job.save(update_fields=["kind"])
    before = board_version()
    with django_capture_on_commit_callbacks(execute=True):
        AlignmentJob.objects.filter(pk=job.pk).delete()
    assert board_version() == before + 1


def test_the_version_is_shared_through_the_database(client, release):
    """A Celery worker bumps the version in its own process; web processes see it in the
    database, whatever cache backend each of them has."""
    ranked_model("org/first", release, 0.5)
    before = board_version()
    assert board_models(client) == ["org/first"]  # cached
    ranked_model("org/second", release, 0.9)
    assert board_models(client) == ["org/first"]
    BoardVersion.objects.update(version=F("version") + 1)  # what another process's bump does
    assert board_version() == before + 1
    assert board_models(client) == ["org/second", "org/first"]
