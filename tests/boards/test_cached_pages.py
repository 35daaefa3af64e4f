"""The disparity board (and its CSV), the world map, the model page and the comparison are
kept whole per board version like the board: a warm request costs the same one or two queries
whatever the number of models, and a finished job or a new one shows at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leaderboard.boards.cache import invalidate_boards
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import EvaluationJob, JobStatus
from tests.factories import dvb_evaluate, dvb_release, make_model

pytestmark = pytest.mark.django_db
SPREAD = {"United Kingdom": 6.0, "Japan": 0.0, "Nigeria": -6.0, "Brazil": 2.0, "Fiji": -9.0}


def evaluated(release: DatasetRelease, start: int, stop: int) -> list[EvaluationJob]:
    return [
        dvb_evaluate(
            make_model(f"org/model-{i:02d}"),
            release,
            {country: margin + i / 10 for country, margin in SPREAD.items()},
        )
        for i in range(start, stop)
    ]


def pages(jobs: list[EvaluationJob]) -> list[tuple[str, dict[str, str]]]:
    first, second = jobs[0].model_id, jobs[1].model_id
    return [
        (reverse("disparity", args=["divervalue"]), {"dimension": "birth_country"}),
        (reverse("disparity-export", args=["divervalue"]), {"dimension": "region"}),
        (reverse("world-map", args=["divervalue"]), {}),
        (reverse("model-detail", args=[first]), {}),
        (reverse("model-detail", args=[first]), {"birth_country": "Japan", "page": "2"}),
        (reverse("compare", args=["divervalue"]), {"models": f"{first},{second}"}),
    ]


def warm_queries(client, url: str, params: dict[str, str]) -> tuple[int, bytes]:
    first = client.get(url, params)
    assert first.status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url, params)
    assert again.status_code == 200
    assert again.content == first.content
    return len(captured.captured_queries), again.content


def test_a_warm_page_costs_at_most_two_queries_whatever_the_number_of_models(client):
    release = dvb_release()
    jobs = evaluated(release, 0, 2)
    few = {url + str(params): warm_queries(client, url, params)[0] for url, params in pages(jobs)}
    evaluated(release, 2, 8)
    invalidate_boards()  # as a finished job does
    for url, params in pages(jobs):
        queries, _ = warm_queries(client, url, params)
        # The board version; the model page also reads its jobs' states.
        assert queries <= 2, (url, queries)
        assert queries == few[url + str(params)], url


def test_the_model_page_shows_a_job_submitted_or_failed_since_it_was_kept(client):
    release = dvb_release()
    (job,) = evaluated(release, 0, 1)
    url = reverse("model-detail", args=[job.model_id])
    client.get(url)
    queued = EvaluationJob.objects.create(
        model_id=job.model_id,
        release=release,
        attempt=2,
        methods=["opa"],
        status=JobStatus.QUEUED,
    )
    html = client.get(url).content.decode()
    assert f"#{queued.pk}</a>" in html and "Queued" in html
    queued.status = JobStatus.FAILED
    queued.save()
    assert "Failed" in client.get(url).content.decode()


def test_each_kept_page_shows_a_newly_evaluated_model_once_its_job_finished(client, tmp_path: Path):
    release = dvb_release()
    jobs = evaluated(release, 0, 2)
    for url, params in pages(jobs):
        assert client.get(url, params).status_code == 200  # kept
    (newcomer,) = evaluated(release, 2, 3)
    invalidate_boards()  # what the job_finished receiver does after the scores are committed
    name = newcomer.model.name.encode()
    disparity, export = pages(jobs)[:2]
    assert name in client.get(*disparity).content
    assert name in client.get(*export).content
    compare = reverse("compare", args=["divervalue"])
    assert (
        name in client.get(compare, {"models": f"{jobs[0].model_id},{newcomer.model_id}"}).content
    )
