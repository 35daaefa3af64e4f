"""`fetch_rows`: the rows Django reads, read in PostgreSQL's binary protocol, and logged."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from leaderboard.binary_rows import fetch_rows
from leaderboard.evals.models import EvaluationJob, Score
from tests.factories import evaluate, make_model, make_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> EvaluationJob:
    return evaluate(make_model("org/model", params_billions=1.5), make_release(per_cell=4))


def test_it_reads_the_values_django_reads(job):
    rows = EvaluationJob.objects.filter(pk=job.pk).values_list(
        "pk", "model_id", "finished_at", "status", "model__params_billions", "model__publisher_run"
    )
    scores = Score.objects.filter(job=job).order_by("id")
    cells = scores.annotate(text=Cast("parts", TextField())).values_list(
        "slice_key", "value", "n", "clusters", "text"
    )

    assert fetch_rows(rows) == list(rows)
    assert fetch_rows(cells) == list(cells) and len(cells) > 10


def test_no_ids_read_no_rows_and_the_query_is_logged(job):
    with CaptureQueriesContext(connection) as queries:
        assert fetch_rows(Score.objects.filter(job_id__any=[]).values_list("id")) == []
        found = fetch_rows(Score.objects.filter(job_id__any=[job.pk]).values_list("id"))

    assert len(found) == Score.objects.filter(job=job).count()
    assert len(queries) == 1 and "evals_score" in queries[0]["sql"]
