"""A slice of one cluster (one DiverValue-Bench user) has no interval: pages say so in the
declaration's words and never rank on it. Compare pages pair the metric the board ranks by."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass

import pytest
from django.urls import reverse

from evaluation.benchmarks.divervalue.definition import BENCHMARK as DVB
from evaluation.benchmarks.divervalue.harness import score_slices
from evaluation.benchmarks.divervalue.lm_eval_utils import item_outcome
from evaluation.benchmarks.divervalue.results import score_rows
from leaderboard.boards.compare import compare
from leaderboard.evals.models import Score
from tests.factories import dvb_evaluate, dvb_release, finished_job, make_model

pytestmark = pytest.mark.django_db

SLICES = {
    "region": "East Asia",
    "age": "35-44 years old",
    "gender": "Male",
    "education": "University",
    "marital_status": "Single",
}


@dataclass(frozen=True)
class Margin:
    user_id: str
    slices: dict[str, str]
    outcome: dict[str, float]


def test_the_harness_records_each_slices_users_and_ranks_no_slice_of_one():
    # Twelve items of one Japanese user, twelve of three British users: both above min_n.
    items = [
        Margin(user, {**SLICES, "birth_country": country}, item_outcome(m, 1, 0.0, 1))
        for country, users in (("Japan", ["jp0"]), ("United Kingdom", ["uk0", "uk1", "uk2"]))
        for i in range(12)
        for user in [users[i % len(users)]]
        for m in [(i % 5) - 1.5]
    ]
    scored = score_slices(items, DVB, seed=7)
    japan = [s for s in scored if (s.dimension, s.value) == ("birth_country", "Japan")]
    uk = [s for s in scored if (s.dimension, s.value) == ("birth_country", "United Kingdom")]
    assert japan and not any(s.ranked for s in japan)
    assert uk and all(s.ranked for s in uk)
    rows = {(tuple(r.slices.items()), r.metric): r for r in score_rows(scored, items)}
    assert rows[((("birth_country", "Japan"),), "opa")].clusters == 1
    assert rows[((("birth_country", "United Kingdom"),), "opa")].clusters == 3
    assert rows[((), "opa")].clusters == 4


def _score(job, slices, value, clusters, n=12):
    for metric in ("opa", "acc_0", "margin"):
        Score.objects.create(
            job=job,
            slices=slices,
            slice_key="|".join(f"{k}={v}" for k, v in slices.items()),
            method="opa",
            metric=metric,
            value=value,
            n=n,
            stderr=0.0 if clusters == 1 else 0.05,
            ci_low=value if clusters == 1 else value - 0.1,
            ci_high=value if clusters == 1 else value + 0.1,
            clusters=clusters,
        )


@pytest.fixture
def one_user():
    """Two models scored on a release where Japan's 12 items are one user's."""
    release = dvb_release()
    jobs = []
    for name, value in (("org/a", 1 / 12), ("org/b", 0.5)):
        job = finished_job(make_model(name), release, methods=["opa"])
        _score(job, {}, 0.4, 13, n=50)
        _score(job, {"birth_country": "Japan"}, value, 1)
        _score(job, {"birth_country": "United Kingdom"}, value, 3)
        jobs.append(job)
    return release, jobs


def text(response) -> str:
    assert response.status_code == 200
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_model_page_says_one_user_has_no_interval(client, one_user):
    _, (job, _) = one_user
    page = text(client.get(reverse("model-detail", args=[job.model_id])))
    assert "one user: no interval" in page
    assert "[8.3%, 8.3%]" not in page
    japan = page.split("Birth country/region: Japan")[1].split("Birth country/region")[0]
    assert "one user: no interval" in japan and "[" not in japan


def test_the_board_never_ranks_on_a_slice_of_one_user(client, one_user):
    url = "/api/benchmarks/divervalue/leaderboard/"
    japan = client.get(url, {"birth_country": "Japan"}).json()["results"]
    assert [row["rank"] for row in japan] == [None, None]
    assert {row["cells"][""]["clusters"] for row in japan} == {1}
    uk = client.get(url, {"birth_country": "United Kingdom"}).json()["results"]
    assert sorted(row["rank"] for row in uk) == [1, 2]
    board = text(client.get(reverse("board", args=["divervalue"]), {"birth_country": "Japan"}))
    assert "one user's items: no interval" in board


def test_the_compare_page_pairs_the_metric_the_board_ranks_by():
    release = dvb_release()
    margins = {"United Kingdom": 3.0, "Japan": 0.5, "Nigeria": -1.0, "Brazil": 1.5, "Fiji": -9.0}
    first = dvb_evaluate(make_model("org/first"), release, margins)
    second = dvb_evaluate(
        make_model("org/second"), release, {k: v - 1.0 for k, v in margins.items()}
    )
    result = compare(release, [first.model_id, second.model_id])
    overall = next(c for c in result.cells if not c.slices)
    assert overall.metric_label == "OPA" == DVB.method("opa").primary_metric.label
    opa = [job.scores.get(slices={}, metric="opa").value for job in (first, second)]
    assert overall.rates == [pytest.approx(opa[0]), pytest.approx(opa[1])]
