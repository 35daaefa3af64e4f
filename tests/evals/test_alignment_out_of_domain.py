"""An alignment on DiverValue-Bench is also scored out of domain, on UF-P-4: the job queues the
aligned model's and its base's evaluations on UF-P-4's current release, and the effect is shown
in domain and out of domain side by side (page and API), with the publisher's figures of the
same study. End to end in-process: real DPO on a tiny model, real lm-eval runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.alignment_effect import alignment_effect
from leaderboard.boards.reported import import_reported
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.alignment import run_alignment_job
from leaderboard.evals.models import EvaluationJob, JobKind, JobStatus
from leaderboard.evals.runner import run_job
from tests.evals.test_alignment_job import run_in_process

pytestmark = [pytest.mark.slow]

DVB = get_benchmark("divervalue")
UFP4 = get_benchmark("ufp4")


def demo_release(slug: str) -> DatasetRelease:
    benchmark = get_benchmark(slug)
    import_release(
        benchmark.demo_dir,
        benchmark=slug,
        version=f"{slug}-t1",
        licence="demo",
        source=DatasetRelease.Source.DEMO,
        is_demo=True,
        publish=True,
    )
    return DatasetRelease.objects.get(version=f"{slug}-t1")


def test_an_alignment_is_scored_in_domain_and_out_of_domain_side_by_side(
    db, client, job_settings, model_factory, owner, settings
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    dvb, ufp4 = demo_release("divervalue"), demo_release("ufp4")
    for shipped in (DVB, UFP4):
        import_reported(shipped.demo_dir.parent / "reported.json")
    base = model_factory("base")
    # The base was scored on UF-P-4 already: that run is reused, not repeated.
    earlier = run_in_process(_create(base, ufp4), run_job)
    align = EvaluationJob.objects.create(
        model=base,
        release=dvb,
        kind=JobKind.ALIGN,
        attempt=1,
        methods=["opa"],
        requested_by=owner,
        alignment={"target": {"gender": "Female"}, "dpo": {"max_steps": 2, "batch_size": 2}},
    )
    align = run_in_process(align, run_alignment_job)
    assert align.status == JobStatus.FINISHED, align.failure_message
    aligned = align.produced_model
    assert align.alignment["out_of_domain"] == [{"benchmark": "ufp4", "release": ufp4.pk}]
    queued = EvaluationJob.objects.filter(status=JobStatus.PENDING).order_by("pk")
    assert sorted((j.model_id, j.release.benchmark.slug) for j in queued) == sorted(
        [(aligned.pk, "divervalue"), (base.pk, "divervalue"), (aligned.pk, "ufp4")]
    )
    ood_job = queued.get(model=aligned, release=ufp4)
    assert ood_job.exclude_uids == []  # out of domain: every item, none trained on

    # Until the out-of-domain run finishes, the page says so instead of showing a number.
    for job in queued.filter(release=dvb):
        assert run_in_process(job, run_job).status == JobStatus.FINISHED
    waiting = alignment_effect(aligned)
    assert waiting is not None and waiting.out_of_domain[0].pending.startswith("Waiting for")
    assert waiting.out_of_domain[0].summary == []
    assert run_in_process(ood_job, run_job).status == JobStatus.FINISHED

    effect = alignment_effect(aligned)
    assert effect is not None
    ood = effect.out_of_domain[0]
    assert ood.benchmark.slug == "ufp4" and ood.pending == ""
    opa = [r for r in ood.summary if r.measure == "Mean margin"]
    assert [(r.label, r.n, r.clusters) for r in opa] == [("All evaluated items", 16, None)]
    before = dict(earlier.samples.values_list("item__uid", "value"))
    after = dict(ood_job.samples.values_list("item__uid", "value"))
    assert opa[0].base == pytest.approx(sum(before.values()) / 16)
    assert opa[0].aligned == pytest.approx(sum(after.values()) / 16)
    assert {r.label for r in ood.rows} == {
        "Helpfulness", "Honesty", "Instruction following", "Truthfulness"
    }  # fmt: skip
    assert all(r.n == 4 for r in ood.rows)
    assert [r.label for r in effect.in_domain] == ["All evaluated items"] * 2
    assert effect.in_domain[0].n == effect.aligned_job.samples.count()

    page = client.get(reverse("model-detail", args=[aligned.pk])).content.decode()
    side = page[page.index('id="alignment-side-by-side"') :]
    side = side[: side.index("</table>")]
    assert side.count('data-set="in domain"') == 2 and side.count('data-set="ufp4"') == 2
    assert "DiverValue-Bench, out of domain (UF-P-4)" in side
    assert 'id="alignment-ood-ufp4"' in page
    reported = page[page.index('id="alignment-reported"') :]
    reported = reported[: reported.index("</table>")]
    assert "Reported by the publisher, not run here" in reported
    row = reported[reported.index('data-reported="LLaMA-2-7B"') :]
    assert "0.2673" in row[: row.index("</tr>")] and "0.1817" in row[: row.index("</tr>")]

    body = client.get(f"/api/alignment-effects/{aligned.pk}/").json()
    assert body["in_domain"]["benchmark"] == "divervalue" and body["pending"] == ""
    (outside,) = body["out_of_domain"]
    assert outside["benchmark"] == "ufp4" and outside["release"] == "ufp4-t1"
    assert outside["summary"][0]["n"] == 16 and len(outside["cells"]) == 8  # 4 subsets x 2
    assert body["reported"]["sets"] == ["DVB-test", "UF-P-4, four subsets pooled"]
    tuned = next(m for m in body["reported"]["models"] if m["model"].startswith("Qwen-7B, "))
    assert tuned["values"]["UF-P-4, four subsets pooled"] == {"value": 0.2181, "spread": 0.0013}
    assert client.get(f"/api/alignment-effects/{base.pk}/").status_code == 404
    assert client.get("/api/alignment-effects/x/").status_code == 404


def _create(model, release):
    from leaderboard.evals import lifecycle

    return lifecycle.create_job(model, release)
