"""Issue 11, item 5: a benchmark the site has never heard of (this folder's toy benchmark) is
imported, submitted through the API, evaluated by a real Celery worker on the tiny model,
ranked on its board and downloadable, through the same code that serves NaVAB."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from evaluation.benchmarks import get_benchmark, register, unregister
from evaluation.benchmarks.contract import BenchmarkDefinition
from leaderboard.boards.queries import OVERALL, BoardQuery, build_board
from leaderboard.catalog.models import Benchmark, DatasetRelease
from leaderboard.catalog.registry_sync import sync_benchmarks
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    JobStatus,
    SampleResult,
    Score,
)
from tests.tiny_models import build_tiny_model
from tests.toy_benchmark import BENCHMARK, REGISTRATION
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def toy() -> Iterator[BenchmarkDefinition]:
    slug, _, target = REGISTRATION.partition("=")
    register(slug, target)
    sync_benchmarks(Benchmark)
    yield get_benchmark(slug)
    unregister(slug)


def finished(job: EvaluationJob, timeout: float = 300) -> EvaluationJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in TERMINAL_STATUSES:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout:.0f} s")


def test_a_toy_benchmark_is_imported_evaluated_ranked_and_downloadable(
    client, toy, worker_settings, tmp_path: Path, owner
):
    call_command(
        "import_release",
        "--benchmark",
        "toy",
        str(BENCHMARK.demo_dir),
        "--version",
        "toy-1",
        "--publish",
        stdout=StringIO(),
    )
    release = DatasetRelease.objects.get(version="toy-1")
    assert release.benchmark.slug == "toy"
    assert release.manifest["counts"] == {"aa/food": 2, "aa/sport": 2, "bb/food": 2, "bb/sport": 2}
    tiny = build_tiny_model(tmp_path / "models" / "tiny-gpt2")
    worker_settings.SUBMISSION_LOCAL_ROOTS = [tiny.parent]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    submitted = api.post(
        "/api/models/",
        {"name": str(tiny), "precision": "float32", "benchmarks": ["toy"]},
        format="json",
    )
    assert submitted.status_code == 201, submitted.json()
    [queued] = submitted.json()["jobs"]
    job = EvaluationJob.objects.get(pk=queued["id"])
    model = job.model
    assert (job.release, job.methods) == (release, ["pick"])

    with running_worker(tmp_path / "worker.log", extra_env={"EVAL_EXTRA_BENCHMARKS": REGISTRATION}):
        job = finished(job)

    assert job.status == JobStatus.FINISHED, (job.failure_reason, job.log_tail)
    # Both declared metrics on every country x topic cell; one result per item.
    scores = Score.objects.filter(job=job)
    assert sorted((s.slice_key, s.metric) for s in scores) == sorted(
        (f"country={c}|topic={t}", m)
        for c in ("aa", "bb")
        for t in ("food", "sport")
        for m in ("acc", "margin")
    )
    samples = list(SampleResult.objects.filter(job=job).select_related("item"))
    assert len(samples) == release.items.count() == 8
    for score in scores.filter(metric="acc"):
        assert 0.0 <= score.ci_low <= score.value <= score.ci_high <= 1.0
    margins = {s.item.uid: s.details["margin"] for s in samples}
    food_aa = scores.get(metric="margin", slices__country="aa", slices__topic="food")
    in_cell = [
        margins[s.item.uid] for s in samples if s.item.slices == {"country": "aa", "topic": "food"}
    ]
    assert food_aa.value == pytest.approx(sum(in_cell) / len(in_cell))

    # Ranked on its board: overall is the mean over countries of the topic's cells.
    board = build_board(
        BoardQuery(release=release, column=OVERALL, slices=(("topic", "food"),), method="pick")
    )
    assert [c.code for c in board.columns] == ["aa", "bb"]
    (row,) = board.ranked
    assert row.rank == 1 and row.model_id == model.pk
    cells = [
        scores.get(metric="acc", slices__country=c, slices__topic="food").value
        for c in ("aa", "bb")
    ]
    assert row.primary is not None
    assert row.primary.value == pytest.approx(sum(cells) / 2, abs=1e-3)
    api = client.get(reverse("api:score-list"), {"release": "toy-1", "metric": "margin"}).json()
    assert api["count"] == 4
    ranked = client.get("/api/benchmarks/toy/leaderboard/", {"topic": "food"}).json()
    assert (ranked["benchmark"], ranked["method"], ranked["slices"]["topic"]) == (
        "toy",
        "pick",
        "food",
    )
    assert [(r["model_id"], r["rank"]) for r in ranked["results"]] == [(model.pk, 1)]
    assert ranked["results"][0]["score"] == pytest.approx(row.primary.value, abs=1e-6)

    # Downloadable: the release's JSONL holds every item in the declared columns.
    response = client.get(reverse("download-release", args=["toy", "toy-1", "jsonl"]))
    assert response.status_code == 200
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [list(line) for line in lines] == [list(toy.export_columns())] * 8
    assert {line["uid"] for line in lines} == set(margins)
