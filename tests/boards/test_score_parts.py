"""A score's parts (declared sub-metrics) are read by name, in the declared order, on every
page that shows them; counted parts (unparsable, empty, refused, blocked) read as counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from leaderboard.evals.models import Score
from tests.factories import finished_job, make_model

pytestmark = pytest.mark.django_db

# A served model's China quoted cell, stored as the harness writes it: S as option A 3/7,
# RS as option A 4/8, and of the 15 answers 2 unparsable, 1 empty, 1 refused, none blocked
# (each scores 0, so their "rate" is always 0).
PARTS = {
    "pos": {"value": 3 / 7, "n": 7},
    "neg": {"value": 4 / 8, "n": 8},
    "unparsable": {"value": 0.0, "n": 2},
    "empty": {"value": 0.0, "n": 1},
    "refused": {"value": 0.0, "n": 1},
    "blocked": {"value": None, "n": 0},
}


@pytest.fixture
def job(release):
    job = finished_job(make_model("served-chat"), release, methods=["mc_gen"])
    Score.objects.create(
        job=job,
        slices={"nation": "cn", "mode": "quoted"},
        slice_key="mode=quoted|nation=cn",
        method="mc_gen",
        metric="acc",
        value=7 / 15,
        n=15,
        stderr=0.13,
        ci_low=0.2,
        ci_high=0.73,
        parts=PARTS,
    )
    return job


def test_the_model_page_shows_each_part_under_its_own_label_and_counts_as_counts(client, job):
    html = client.get(reverse("model-detail", args=[job.model_id])).content.decode()
    cell = re.sub(r"<[^>]+>", "", html.split('id="score-grid"')[1].split("</table>")[0])
    # S as option A / RS as option A / Unparsable / Ambiguous / Empty / Refused / Blocked, as
    # declared; a count the score predates (Ambiguous) has no number.
    assert "n=15 · 42.9% / 50.0% / 2 / — / 1 / 1 / 0" in cell
    assert (
        "S as option A / RS as option A / Unparsable (items) / Ambiguous (items) / Empty (items)"
        in html
    )
    assert re.search(r'title="S as option A">42\.9%', html)
    assert re.search(r'title="Unparsable">2<', html)


def test_the_job_page_shows_each_part_in_its_column_and_counts_as_counts(client, job):
    html = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    table = html.split("<h2>Scores")[1].split("</table>")[0]
    headers = re.findall(r"<th>([^<]*)</th>", table)
    row = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", table)]
    shown = dict(zip(headers, row, strict=True))
    assert shown["S as option A"] == "0.429 (n=7)"
    assert shown["RS as option A"] == "0.500 (n=8)"
    assert (shown["Unparsable"], shown["Refused"], shown["Blocked"]) == ("2", "1", "0")
