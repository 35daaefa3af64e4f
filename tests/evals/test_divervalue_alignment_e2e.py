"""Alignment toward a DiverValue-Bench group end to end, through a real Celery worker: the form
offers the release's groups with their train items, a DPO + LoRA run on the demo's train users
of the group, the aligned model and its base scored on the same test users, the effect page's
numbers against an independent paired computation, and the aligned model never ranked."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    JobKind,
    JobStatus,
    LanguageModel,
    ModelType,
    Score,
)
from tests.evals.test_worker_e2e import status_of, wait_for
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DVB = get_benchmark("divervalue")
TARGET = {"gender": "Female"}


@pytest.fixture
def setup(worker_settings, tmp_path: Path, owner):
    release = import_release(
        DVB.demo_dir, benchmark="divervalue", version="dvb-align", licence="cc-by-4.0", publish=True
    ).release
    path = build_tiny_model(tmp_path / "models" / "tiny-gpt2")
    base = LanguageModel.objects.create(
        name=str(path), revision="local-tiny", precision="float32", submitter=owner
    )
    return release, base


def form_post(target: str) -> dict[str, object]:
    # Epochs overridden to keep the run short; the other settings are the published ones.
    return {
        "target": target,
        "source": "release",
        "epochs": 1,
        "learning_rate": 5e-3,
        "beta": 0.1,
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
    }


def cluster_ci(diff: np.ndarray, users: list[str], seed: int) -> tuple[float, float]:
    """A paired percentile interval resampling whole users, written out longhand."""
    rng = np.random.default_rng(seed)
    names = sorted(set(users))
    by_user = {u: [d for d, v in zip(diff, users, strict=True) if v == u] for u in names}
    draws = []
    for _ in range(4000):
        chosen = rng.choice(len(names), size=len(names), replace=True)
        pooled = [d for i in chosen for d in by_user[names[i]]]
        draws.append(sum(pooled) / len(pooled))
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def row_numbers(page: str, group: str, measure: str) -> dict[str, float]:
    row = re.search(
        rf'<tr[^>]*data-group="{re.escape(group)}" data-measure="{re.escape(measure)}">(.*?)</tr>',
        page,
        re.S,
    )
    assert row, f"no row {group} / {measure}"
    values = [float(v) for v in re.findall(r'data-value="([^"]+)"', row.group(1))]
    bounds = re.findall(r"\[(-?[\d.]+), (-?[\d.]+)\]", row.group(1))
    n = int(re.search(r'<td class="num">(\d+)', row.group(1)).group(1))
    return {
        "n": n,
        "base": values[0],
        "aligned": values[1],
        "delta": values[2],
        "delta_low": float(bounds[2][0]),
        "delta_high": float(bounds[2][1]),
    }


def test_a_group_alignment_is_trained_on_its_train_users_and_compared_on_the_test_users(
    client, owner, setup, tmp_path
):
    release, base = setup
    client.force_login(owner)
    url = reverse("model-align", args=[base.pk]) + "?benchmark=divervalue"
    form = client.get(url).content.decode()
    train = release.items.filter(data__split="train")
    female_train = sum(1 for s in train.values_list("slices", flat=True) if s["gender"] == "Female")
    assert f"Gender: Female ({female_train} items to train on)" in form
    # A country whose users are all in the test split is offered, and refused.
    test_only = sorted(
        set(
            release.items.filter(data__split="test").values_list("slices__birth_country", flat=True)
        )
        - set(train.values_list("slices__birth_country", flat=True))
    )[0]
    refused = client.post(url, form_post(f"birth_country={test_only}"))
    assert refused.status_code == 200
    assert "has no items to train on in this release" in refused.content.decode()
    assert not EvaluationJob.objects.filter(kind=JobKind.ALIGN).exists()

    with running_worker(tmp_path / "worker.log"):
        response = client.post(url, form_post("gender=Female"))
        assert response.status_code == 302, response.content.decode()[-3000:]
        align = EvaluationJob.objects.get(kind=JobKind.ALIGN)
        wait_for(lambda: status_of(align) in TERMINAL_STATUSES, 300, "the alignment to end")
        assert align.status == JobStatus.FINISHED, align.log_tail
        follow_ups = EvaluationJob.objects.filter(kind=JobKind.EVALUATE)
        assert follow_ups.count() == 2
        wait_for(
            lambda: all(status_of(j) in TERMINAL_STATUSES for j in follow_ups),
            300,
            "both held-out evaluations to end",
        )
    aligned = align.produced_model
    assert aligned is not None and aligned.model_type == ModelType.ALIGNED
    aligned_job = EvaluationJob.objects.get(model=aligned, kind=JobKind.EVALUATE)
    base_job = EvaluationJob.objects.get(model=base, kind=JobKind.EVALUATE)
    assert aligned_job.status == base_job.status == JobStatus.FINISHED, aligned_job.log_tail

    # Trained on the train users of the group only, with the published settings.
    card = align.repro_card
    trained = set(card["split"]["train"]["uids"])
    assert (
        trained == {i.uid for i in train if i.slices["gender"] == "Female"}
        and len(trained) == female_train
    )
    settings = card["alignment"]["settings"]
    assert (settings["lora_r"], settings["lora_alpha"], settings["lora_dropout"]) == (16, 32, 0.05)
    assert (settings["beta"], settings["max_prompt_length"], settings["max_length"]) == (
        0.1,
        512,
        1024,
    )
    assert settings["num_train_epochs"] == 1
    assert card["alignment"]["steps"] > 0
    # The job page showed training progress, and says what was trained and scored on.
    align.refresh_from_db()
    assert align.progress_stage == "DPO training"
    assert align.progress_done == align.progress_total == card["alignment"]["steps"]
    job_page = client.get(align.get_absolute_url()).content.decode()
    assert "DPO training" in job_page and "Evaluated on" in job_page
    assert f"{female_train} items of" in job_page

    # Both models scored on exactly the test users' items.
    test_uids = set(release.items.filter(data__split="test").values_list("uid", flat=True))
    for job in (aligned_job, base_job):
        assert set(job.samples.values_list("item__uid", flat=True)) == test_uids

    # The effect page against an independent paired computation.
    def margins(job: EvaluationJob) -> dict[str, tuple[float, bool, str, str]]:
        return {
            uid: (value, correct, data["user_id"], slices["gender"])
            for uid, value, correct, data, slices in job.samples.values_list(
                "item__uid", "value", "correct", "item__data", "item__slices"
            )
        }

    before, after = margins(base_job), margins(aligned_job)
    page = client.get(aligned.get_absolute_url()).content.decode()
    assert 'id="alignment-effect"' in page and "chart-alignment" in page
    groups = {
        "All evaluated items": sorted(test_uids),
        "Female": sorted(u for u in test_uids if before[u][3] == "Female"),
        "Rest": sorted(u for u in test_uids if before[u][3] != "Female"),
    }
    assert groups["Female"] and groups["Rest"]
    for group, uids in groups.items():
        users = [before[u][2] for u in uids]
        for measure, pick in (("Mean margin", 0), ("Correct rate", 1)):
            a = np.array([float(before[u][pick]) for u in uids])
            b = np.array([float(after[u][pick]) for u in uids])
            shown = row_numbers(page, group, measure)
            assert shown["n"] == len(uids)
            assert shown["base"] == pytest.approx(a.mean(), abs=1e-9)
            assert shown["aligned"] == pytest.approx(b.mean(), abs=1e-9)
            assert shown["delta"] == pytest.approx((b - a).mean(), abs=1e-9)
            if not (b - a).any():
                continue
            low, high = cluster_ci(b - a, users, seed=7)
            width = max(high - low, 1e-6)
            assert shown["delta_low"] == pytest.approx(low, abs=0.2 * width + 1e-3)
            assert shown["delta_high"] == pytest.approx(high, abs=0.2 * width + 1e-3)
        assert f"({len(set(users))} users)" in page
    # Training moved the group's margins: the model did learn from its pairs.
    female = groups["Female"]
    assert any(after[u][0] != before[u][0] for u in female)

    # Never ranked: even with scores on the whole release, the board leaves the aligned
    # model out and ranks its base.
    assert not EvaluationJob.objects.rankable().exists()  # held-out runs are not rankable
    for job in (aligned_job, base_job):
        as_full_release(job)
    assert set(EvaluationJob.objects.rankable().values_list("model", flat=True)) == {base.pk}
    board = client.get(reverse("board", args=["divervalue"])).content.decode()
    assert base.display_name in board and aligned.display_name not in board


def as_full_release(job: EvaluationJob) -> EvaluationJob:
    """A finished whole-release run of the job's model with the job's scores."""
    copy = EvaluationJob.objects.create(
        model=job.model,
        release=job.release,
        attempt=job.attempt + 1,
        status=JobStatus.FINISHED,
        methods=job.methods,
        repro_card=job.repro_card,
        started_at=job.started_at,
        finished_at=timezone.now(),
    )
    Score.objects.bulk_create(
        Score(**{**model_to_dict(s, exclude=["id", "job"]), "job": copy}) for s in job.scores.all()
    )
    return copy
