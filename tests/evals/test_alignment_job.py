"""An alignment job end to end in-process: DPO on a tiny model, the aligned model registered
and evaluated on held-out items only, and the base-vs-aligned effect computed from both runs."""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from leaderboard.boards.alignment_effect import alignment_effect
from leaderboard.evals import lifecycle, sample_details
from leaderboard.evals.alignment import run_alignment_job
from leaderboard.evals.models import EvaluationJob, JobKind, JobStatus, ModelType
from leaderboard.evals.runner import run_job
from tests.factories import make_release

pytestmark = [pytest.mark.slow]


def run_in_process(job: EvaluationJob, runner) -> EvaluationJob:
    """What the worker does, minus the broker: take the delivery, claim, run."""
    EvaluationJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, celery_task_id="t")
    claimed = lifecycle.claim(job.pk, "t", "test-host")
    assert claimed is not None
    runner(claimed, "t", cancelled=threading.Event())
    claimed.refresh_from_db()
    return claimed


ALIGNMENT = {
    "target": {"nation": "us"},
    "narrow": {"mode": ["quoted", "official"]},
    "test_fraction": 0.5,
    "seed": 3,
    "dpo": {"max_steps": 4, "learning_rate": 5e-3, "batch_size": 4},
}


def test_alignment_registers_an_aligned_model_evaluated_only_on_untrained_items(
    db, client, job_settings, model_factory, owner
):
    release = make_release("align", per_cell=4)
    base = model_factory("base")
    base_eval = lifecycle.create_job(base, release, methods=["mc"])
    assert run_in_process(base_eval, run_job).status == JobStatus.FINISHED

    align = lifecycle.create_job(
        base, release, requested_by=owner, kind=JobKind.ALIGN, alignment=ALIGNMENT
    )
    align = run_in_process(align, run_alignment_job)

    assert align.status == JobStatus.FINISHED, align.log_tail
    aligned = align.produced_model
    assert aligned is not None
    assert aligned.model_type == ModelType.ALIGNED
    assert aligned.base_model == base
    trained = set(align.repro_card["split"]["train"]["uids"])
    held_out = set(align.repro_card["split"]["test"]["uids"])
    assert trained and held_out and not trained & held_out
    us_uids = set(release.items.in_slice("nation", "us").values_list("uid", flat=True))
    assert trained | held_out == us_uids

    heldout_eval = EvaluationJob.objects.get(model=aligned, kind=JobKind.EVALUATE)
    baseline = (
        EvaluationJob.objects.filter(model=base, kind=JobKind.EVALUATE)
        .exclude(exclude_uids=[])
        .get()
    )
    assert set(heldout_eval.exclude_uids) == trained == set(baseline.exclude_uids)
    # Follow-ups are the site's work: they do not count against the requester's daily limit.
    assert heldout_eval.requested_by is None and baseline.requested_by is None
    EvaluationJob.objects.filter(pk__in=[heldout_eval.pk, baseline.pk]).update(methods=["mc"])
    heldout_eval = run_in_process(heldout_eval, run_job)
    assert heldout_eval.status == JobStatus.FINISHED, heldout_eval.log_tail
    evaluated = set(heldout_eval.samples.values_list("item__uid", flat=True))
    assert not evaluated & trained
    assert evaluated == set(release.items.values_list("uid", flat=True)) - trained
    assert alignment_effect(aligned) is None  # the base's held-out run has not finished
    assert run_in_process(baseline, run_job).status == JobStatus.FINISHED

    effect = alignment_effect(aligned)
    assert effect is not None and effect.target == {"Nation": "United States"}
    target_n = sum(r.n for r in effect.rows if r.is_target)
    other_n = sum(r.n for r in effect.rows if not r.is_target)
    assert target_n == len(held_out)
    assert other_n == release.items.exclude(pk__in=release.items.in_slice("nation", "us")).count()
    groups = {r.label: r.n for r in effect.summary}
    assert groups == {
        "All evaluated items": target_n + other_n,
        "United States": target_n,
        "Rest": other_n,
    }
    # Truly paired: both models saw every item with the same option order.
    uids = dict(release.items.values_list("pk", "uid"))
    pairs = {
        (uids[item], job.pk): parts
        for job in (heldout_eval, baseline)
        for (item, _), (parts, _) in sample_details.read_job(job.pk).items()
    }
    for uid in evaluated:
        assert pairs[(uid, heldout_eval.pk)] == pairs[(uid, baseline.pk)]
    # Held-out evaluations are never ranked against full-release ones.
    assert not EvaluationJob.objects.rankable().filter(model=aligned).exists()

    page = client.get(aligned.get_absolute_url()).content.decode()
    assert 'id="alignment-effect"' in page and "chart-alignment" in page
    assert base.display_name in page
    assert "held-out evaluation" in page
    # The base model's page shows each of its alignments' effect (never an average).
    base_page = client.get(base.get_absolute_url()).content.decode()
    assert 'id="derived-alignments"' in base_page and f'data-aligned="{aligned.pk}"' in base_page
    assert "toward Nation: United States" in base_page
    api = client.get(f"/api/models/{base.pk}/alignment-effects/").json()
    assert api["effect"] is None and [d["aligned_model"] for d in api["derived"]] == [aligned.pk]
    assert {r["label"] for r in api["derived"][0]["summary"]} == set(groups)
    own = client.get(f"/api/models/{aligned.pk}/alignment-effects/").json()["effect"]
    assert own["target"] == {"Nation": "United States"} and len(own["cells"]) == len(effect.rows)
    job_page = client.get(align.get_absolute_url())
    assert job_page.status_code == 200 and aligned.display_name in job_page.content.decode()
    assert "Held-out topics" in job_page.content.decode()


def test_only_the_owner_or_staff_can_start_an_alignment(db, client, model, other_user, owner):
    make_release("r-align", per_cell=2)
    url = reverse("model-align", args=[model.pk])
    client.force_login(other_user)
    assert client.get(url).status_code == 403
    client.force_login(owner)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "target": "nation=uk",
            "narrow_mode": ["quoted"],
            "source": "release",
            "test_fraction": 0.2,
            "epochs": 1,
            "learning_rate": 5e-5,
            "beta": 0.1,
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_dropout": 0.05,
        },
    )
    job = EvaluationJob.objects.get(model=model, kind=JobKind.ALIGN)
    assert response.status_code == 302
    assert job.alignment["target"] == {"nation": "uk"}
    assert job.alignment["narrow"] == {"mode": ["quoted"]}
    assert job.alignment["dpo"]["lora_r"] == 16
    assert job.requested_by == owner


def test_staff_see_alignment_runs_on_their_own_in_the_admin(admin_client, model, release, owner):
    from leaderboard.evals.models import AlignmentJob

    lifecycle.create_job(model, release, requested_by=owner)
    align = lifecycle.create_job(
        model, release, requested_by=owner, kind=JobKind.ALIGN, alignment=ALIGNMENT
    )
    assert list(AlignmentJob.objects.values_list("pk", flat=True)) == [align.pk]
    page = admin_client.get(reverse("admin:evals_alignmentjob_changelist"))
    shown = page.content.decode()
    assert (
        page.status_code == 200 and "United States (Quoted statements, Official positions)" in shown
    )


def test_a_baseline_skipped_while_the_base_was_busy_is_queued_once_it_is_free(
    db, model, release, owner
):
    busy = lifecycle.create_job(model, release)
    align = EvaluationJob.objects.create(
        model=model,
        release=release,
        kind=JobKind.ALIGN,
        status=JobStatus.FINISHED,
        alignment={**ALIGNMENT, "baseline_pending": True},
        repro_card={"split": {"train": {"uids": ["b", "a"]}}},
    )
    assert lifecycle.queue_pending_baselines() == []  # the base is still busy
    EvaluationJob.objects.filter(pk=busy.pk).update(status=JobStatus.FINISHED)
    assert lifecycle.queue_pending_baselines() == [align.pk]
    baseline = EvaluationJob.objects.filter(model=model).exclude(exclude_uids=[]).get()
    assert baseline.exclude_uids == ["a", "b"]
    assert lifecycle.queue_pending_baselines() == []


def test_an_alignment_stored_before_benchmarks_declared_targets_keeps_its_nation_and_modes(
    db, model, release
):
    old = EvaluationJob(
        model=model,
        release=release,
        kind=JobKind.ALIGN,
        alignment={"nation": "us", "modes": ["quoted"]},
        repro_card={"split": {"train": {"uids": ["a", "b"]}}},
    )
    assert old.alignment_target == {"nation": "us"}
    assert old.alignment_narrowing == {"mode": ["quoted"]}
    assert old.held_out_exclusions == ["a", "b"]
    new = EvaluationJob(
        kind=JobKind.ALIGN,
        alignment={"target": {"gender": "Female"}, "narrow": {}},
        repro_card={"split": {"train": {"uids": ["a"]}}, "exclude_uids": ["a", "v1", "v2"]},
    )
    assert new.alignment_target == {"gender": "Female"} and new.alignment_narrowing == {}
    assert new.held_out_exclusions == ["a", "v1", "v2"]
