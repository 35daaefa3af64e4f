"""A score's fields have one definition (`evaluation.results`): what a run writes is what is
stored, served by the API, shown on a board's cell and in the admin."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from evaluation.results import MEASURE_FIELDS, SCORE_FIELDS, Measure, ScoreRow, slice_key
from leaderboard.evals.admin import ScoreInline
from leaderboard.evals.api import MeasureSerializer, ScoreSerializer
from leaderboard.evals.models import Score
from tests.factories import finished_job, make_model

pytestmark = pytest.mark.django_db

ROW = ScoreRow(
    slices={"nation": "us", "mode": "quoted"}, method="mc", metric="acc", value=0.75, n=40,
    stderr=0.05, ci_low=0.6, ci_high=0.85, parts={"pos": {"value": 0.8, "n": 20}}, clusters=7,
)  # fmt: skip


def test_it_stores_and_serves_every_field_of_a_score(release):
    job = finished_job(make_model("org/model"), release)
    stored = Score.objects.create(
        job=job,
        slice_key=slice_key(ROW.slices),
        **{name: getattr(ROW, name) for name in SCORE_FIELDS},
    )
    stored.refresh_from_db()

    assert dict(ScoreSerializer(stored).data) == {"job": job.pk, **asdict(ROW)}
    assert list(ScoreSerializer(stored).data) == ["job", *SCORE_FIELDS]


def test_a_boards_cell_serializes_as_the_measure_of_a_score():
    measure = Measure(**{name: getattr(ROW, name) for name in MEASURE_FIELDS})
    assert dict(MeasureSerializer(measure).data) == asdict(measure)


def test_the_admin_shows_every_field_of_a_score():
    assert set(SCORE_FIELDS) <= set(ScoreInline.readonly_fields)
