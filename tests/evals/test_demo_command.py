"""`manage.py demo`: the shipped demo release, tiny models and their evaluation by a real worker."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from leaderboard.boards.alignment_effect import alignment_effect
from leaderboard.boards.models import BoardSnapshot
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.management.commands.demo import demo_worker_env
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    JobKind,
    JobStatus,
    LanguageModel,
    ModelType,
)
from tests.evals.test_worker_e2e import wait_for
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_settings(worker_settings, tmp_path):
    worker_settings.LOCAL_MODELS_DIR = tmp_path / "models"
    return worker_settings


# Its own waits (the six jobs, then the beat's snapshots) outlast the 900 s every
# process-starting test gets; on a busy machine the jobs alone took over 15 minutes.
@pytest.mark.timeout(2400)
def test_the_demo_is_evaluated_by_the_real_worker_and_fills_the_board(
    client, demo_settings, tmp_path
):
    call_command("demo")
    release = DatasetRelease.objects.get(is_demo=True, benchmark__slug="navab")
    assert release.is_published and release.items.count() >= 120
    dvb = DatasetRelease.objects.get(is_demo=True, benchmark__slug="divervalue")
    assert dvb.is_published and dvb.items.count() >= 150 and dvb.license == "MIT"
    assert LanguageModel.objects.filter(is_demo=True, publisher_run=False).count() == 3
    jobs = EvaluationJob.objects.filter(release__is_demo=True, model__publisher_run=False)
    ufp4 = DatasetRelease.objects.get(is_demo=True, benchmark__slug="ufp4")
    assert ufp4.is_published and ufp4.items.count() == 16
    assert jobs.count() == 10  # three models on each benchmark's demo release, one alignment
    assert jobs.get(kind=JobKind.ALIGN).alignment["target"] == {"gender": "Female"}
    # The demo files in the publisher's judge-record format: two runs scored by the site.
    runs = EvaluationJob.objects.filter(model__publisher_run=True, release=dvb)
    assert runs.count() == 2 and set(runs.values_list("status", flat=True)) == {"finished"}
    assert all(job.scores.filter(method="paa", slices={}).exists() for job in runs)

    call_command("demo")  # running it again changes nothing
    assert EvaluationJob.objects.filter(release__is_demo=True).count() == 12
    assert LanguageModel.objects.count() == 5

    # As `serve_demo` starts it (its beat included): the demo models are DiverValue-Bench's
    # PAA judge panel, and each default board is frozen on a schedule (here every 2 s).
    demo_env = {**demo_worker_env(), "BOARD_SNAPSHOT_SCHEDULE": "2"}
    with running_worker(tmp_path / "worker.log", extra_env=demo_env, beat=True):
        wait_for(
            lambda: all(s in TERMINAL_STATUSES for s in jobs.values_list("status", flat=True)),
            1800,  # PAA answers and judges on DiverValue-Bench besides OPA and NaVAB
            "the demo jobs to end",
        )

        # The alignment's held-out runs (its base's baseline may wait for the reaper while
        # the base is busy), in domain and out of domain.
        def effect_ready() -> bool:
            aligned = LanguageModel.objects.filter(model_type=ModelType.ALIGNED).first()
            effect = alignment_effect(aligned) if aligned else None
            return bool(effect and effect.out_of_domain and not effect.out_of_domain[0].pending)

        wait_for(effect_ready, 900, "the demo alignment's held-out runs")
        # A snapshot of each benchmark's default board with all three models, once frozen.
        wait_for(
            lambda: all(
                (latest := BoardSnapshot.objects.filter(benchmark__slug=slug).first())
                and len(latest.payload["rows"]) == 3
                for slug in ("navab", "divervalue", "ufp4")
            ),
            60,
            "the beat to freeze the finished boards",
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
    # Never ranked: the publisher's runs and the demo's aligned model.
    ranked = LanguageModel.objects.filter(publisher_run=False).exclude(model_type=ModelType.ALIGNED)
    for model in ranked:
        assert model.name in board.content.decode()
    # DiverValue-Bench's OPA of each demo model, overall and per region, on its own board.
    opa = EvaluationJob.objects.get(release=dvb, model=always_a).scores
    overall = opa.get(slices={}, metric="opa")
    assert 0.0 <= overall.ci_low <= overall.value <= overall.ci_high <= 1.0
    assert opa.filter(slices__has_key="region", metric="margin").count() >= 6
    dvb_board = client.get(reverse("board", args=["divervalue"]))
    assert dvb_board.status_code == 200
    for model in ranked:
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
    for model in ranked:  # the publisher's runs (PAA only) are not on it
        assert model.name in ufp4_board
    world = client.get(reverse("world-map", args=["divervalue"]))
    assert world.context["models"] == 3 and world.context["picture"].script
    # Each job's disparities were stored by the worker as it published the results.
    for job in jobs.filter(kind=JobKind.EVALUATE):  # an alignment stores none
        stored = job.disparities.all()
        declared = job.release.benchmark.slug
        dims = {"navab": {"nation", "mode"}, "divervalue": {"birth_country", "region", "age",
                "gender", "education", "marital_status"}, "ufp4": {"subset"}}[declared]  # fmt: skip
        assert {row.dimension for row in stored} == dims, job
    region = EvaluationJob.objects.get(release=dvb, model=always_a).disparities.get(
        method="opa", dimension="region"
    )
    assert region.detail["n"] == dvb.items.filter(data__split="test").count()

    # Issue 22 on the demo: rank ranges on the board, in the API and its snapshot ...
    api = client.get("/api/benchmarks/navab/leaderboard/").json()
    assert [r["rank_best"] is not None and r["rank_worst"] is not None for r in api["results"]] == [
        True
    ] * 3
    snapshot = BoardSnapshot.objects.filter(benchmark__slug="navab").first()
    assert snapshot is not None and all(r["rank_best"] for r in snapshot.payload["rows"])
    listing = client.get(reverse("snapshot-list", args=["navab"])).content.decode()
    assert f'data-snapshot="{snapshot.slug}"' in listing
    assert client.get(snapshot.get_absolute_url()).status_code == 200
    # ... the agreement of MC and AJ for every model, the judges of PAA (their unreadable
    # outputs said so, on the page and in the board's line) and of aj_ref (one judge) ...
    agreement = client.get(reverse("agreement", args=["navab"])).content.decode()
    assert "3 models scored by both" in agreement and 'id="chart-agreement-diff"' in agreement
    judges = client.get(reverse("judges", args=["divervalue"])).content.decode()
    assert 'id="judges-board"' in judges and judges.count("<tr data-model=") >= 3
    assert "no answer has two readable votes" in judges
    # The demo's publisher's runs, judged by its panel of three: readable, with an alpha.
    publisher = judges.split('id="publisher-judges"')[1]
    assert publisher.count("<tr data-model=") == 2 and "95% CI" in publisher
    line = paa_board.content.decode().split('id="judge-summary"')[1].split("</p>")[0]
    assert "no alpha: no answer has two readable votes" in line
    aj_ref = client.get(reverse("judges", args=["navab"])).content.decode()
    assert 'id="single-judge"' in aj_ref
    # ... the publisher's reported rows beside the board, and each model's profile.
    assert 'id="reported-table"' in dvb_board.content.decode()
    profile = client.get(always_a.get_absolute_url()).content.decode()
    assert "NaVAB" in profile and "DiverValue-Bench" in profile
    # The demo's alignment: its effect in domain (DVB-test) and out of domain (UF-P-4) side
    # by side on the aligned model's page, beside the publisher's reported study.
    aligned = LanguageModel.objects.get(model_type=ModelType.ALIGNED)
    page = client.get(aligned.get_absolute_url()).content.decode()
    side = page[page.index('id="alignment-side-by-side"') :]
    side = side[: side.index("</table>")]
    assert 'data-set="in domain"' in side and 'data-set="ufp4"' in side
    assert 'id="alignment-reported"' in page
    base_page = client.get(aligned.base_model.get_absolute_url()).content.decode()
    assert f'data-aligned="{aligned.pk}"' in base_page
