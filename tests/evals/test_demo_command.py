"""`manage.py demo`: the shipped demo release, tiny models and their evaluation by a real worker."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.management.commands.demo import demo_judges
from leaderboard.evals.models import TERMINAL_STATUSES, EvaluationJob, JobStatus, LanguageModel
from tests.evals.test_worker_e2e import wait_for
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_settings(worker_settings, tmp_path):
    worker_settings.LOCAL_MODELS_DIR = tmp_path / "models"
    return worker_settings


def test_the_demo_is_evaluated_by_the_real_worker_and_fills_the_board(
    client, demo_settings, tmp_path
):
    call_command("demo")
    release = DatasetRelease.objects.get(is_demo=True, benchmark__slug="navab")
    assert release.is_published and release.items.count() >= 120
    dvb = DatasetRelease.objects.get(is_demo=True, benchmark__slug="divervalue")
    assert dvb.is_published and dvb.items.count() >= 150 and dvb.license == "MIT"
    assert LanguageModel.objects.filter(is_demo=True).count() == 3
    jobs = EvaluationJob.objects.filter(release__is_demo=True)
    ufp4 = DatasetRelease.objects.get(is_demo=True, benchmark__slug="ufp4")
    assert ufp4.is_published and ufp4.items.count() == 16
    assert jobs.count() == 9  # three models on each benchmark's demo release

    call_command("demo")  # running it again changes nothing
    assert EvaluationJob.objects.filter(release__is_demo=True).count() == 9
    assert LanguageModel.objects.count() == 3

    # As `serve_demo` starts it: the demo models are DiverValue-Bench's PAA judge panel.
    panel = {"EVAL_PAA_JUDGES": demo_judges(), "EVAL_MAX_GEN_TOKENS": "24"}
    with running_worker(tmp_path / "worker.log", extra_env=panel):
        wait_for(
            lambda: all(s in TERMINAL_STATUSES for s in jobs.values_list("status", flat=True)),
            900,  # PAA answers and judges on DiverValue-Bench besides OPA and NaVAB
            "the demo jobs to end",
        )
    assert set(jobs.values_list("status", flat=True)) == {JobStatus.FINISHED}
    always_a = LanguageModel.objects.get(name="demo/tiny-gpt2-always-a")
    score = always_a.jobs.get(release=release).scores.filter(method="mc").first()
    # Always answering A is right exactly on the half of items that put S first.
    assert (
        score is not None
        and score.parts["pos"]["value"] == 1.0
        and score.parts["neg"]["value"] == 0.0
    )
    board = client.get(reverse("board", args=["navab"]) + "?nation=overall&mode=quoted&method=mc")
    for model in LanguageModel.objects.all():
        assert model.name in board.content.decode()
    # DiverValue-Bench's OPA of each demo model, overall and per region, on its own board.
    opa = EvaluationJob.objects.get(release=dvb, model=always_a).scores
    overall = opa.get(slices={}, metric="opa")
    assert 0.0 <= overall.ci_low <= overall.value <= overall.ci_high <= 1.0
    assert opa.filter(slices__has_key="region", metric="margin").count() >= 6
    dvb_board = client.get(reverse("board", args=["divervalue"]))
    assert dvb_board.status_code == 200
    for model in LanguageModel.objects.all():
        assert model.name in dvb_board.content.decode()
    # PAA, judged by the demo panel of random models: none of their outputs is readable, so
    # no item gets a verdict and PAA has no score (never a 0% that ranks); the board says why.
    paa_job = EvaluationJob.objects.get(release=dvb, model=always_a)
    assert not paa_job.scores.filter(method="paa").exists()
    assert paa_job.repro_card["not_run"]["paa"].startswith("no verdicts")
    assert paa_job.samples.filter(method="paa").exists()  # the raw outputs stay per item
    paa_board = client.get(reverse("board", args=["divervalue"]), {"method": "paa"})
    assert "data-not-run" in paa_board.content.decode()
    # Its pictures from the stored scores: each model's map and radars, the board's mean map.
    sections = client.get(always_a.get_absolute_url()).context["sections"]
    pictures = next(s.population for s in sections if s.benchmark.slug == "divervalue")
    # DVB-test's countries, each with fewer items than min_n on the demo: drawn grey.
    assert pictures.map is not None and pictures.map.script and len(pictures.map.drawn) >= 6
    assert [r.dimension.key for r in pictures.radars] == [
        "region",
        "age",
        "gender",
        "education",
        "marital_status",
    ]
    # UF-P-4, DiverValue-Bench's out-of-domain set: OPA per subset on a board of its own.
    out_of_domain = EvaluationJob.objects.get(release=ufp4, model=always_a).scores
    assert out_of_domain.filter(slices={}, metric="opa").get().n == 16
    assert out_of_domain.filter(slices__has_key="subset", metric="opa").count() == 4
    ufp4_board = client.get(reverse("board", args=["ufp4"])).content.decode()
    assert 'id="out-of-domain-note"' in ufp4_board
    for model in LanguageModel.objects.all():
        assert model.name in ufp4_board
    world = client.get(reverse("world-map", args=["divervalue"]))
    assert world.context["models"] == 3 and world.context["picture"].script
    # Each job's disparities were stored by the worker as it published the results.
    for job in jobs:
        stored = job.disparities.all()
        declared = job.release.benchmark.slug
        dims = {"navab": {"nation", "mode"}, "divervalue": {"birth_country", "region", "age",
                "gender", "education", "marital_status"}, "ufp4": {"subset"}}[declared]  # fmt: skip
        assert {row.dimension for row in stored} == dims, job
    region = EvaluationJob.objects.get(release=dvb, model=always_a).disparities.get(
        method="opa", dimension="region"
    )
    assert region.detail["n"] == dvb.items.filter(data__split="test").count()
