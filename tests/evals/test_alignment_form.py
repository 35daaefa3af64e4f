"""The alignment form reads the benchmark's declaration: its targets with their train items,
its published settings, its own split (no held-out share where a test split exists)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from leaderboard.catalog.importer import import_release
from leaderboard.evals.models import EvaluationJob, JobKind
from tests.factories import make_release

DVB = get_benchmark("divervalue")


@pytest.fixture
def releases(db):
    navab = make_release("navab-form", per_cell=2)
    dvb = import_release(
        DVB.demo_dir, benchmark="divervalue", version="dvb-form", licence="cc-by-4.0", publish=True
    ).release
    return navab, dvb


def test_it_offers_the_groups_of_the_release_with_their_train_items(client, owner, model, releases):
    _, dvb = releases
    client.force_login(owner)
    page = client.get(reverse("model-align", args=[model.pk]), {"benchmark": "divervalue"})
    assert page.status_code == 200
    form = page.context["form"]
    train = [s for s in dvb.items.filter(data__split="train").values_list("slices", flat=True)]
    offered = {key: target.train_items for key, target in form.targets.items()}
    for dimension in DVB.alignment.targets:
        for value in {str(s[dimension]) for s in dvb.items.values_list("slices", flat=True)}:
            expected = sum(1 for s in train if s[dimension] == value)
            assert offered[f"{dimension}={value}"] == expected
    # Its own split and the publisher's settings: no held-out share, no modes.
    assert "test_fraction" not in form.fields and not form.narrowing
    assert form.fields["lora_r"].initial == 16 and form.fields["learning_rate"].initial == 5e-5
    html = page.content.decode()
    assert "test-split user" in html and "NaVAB" in html  # both benchmarks are offered


def test_it_queues_a_group_alignment_with_the_target_and_the_published_settings(
    client, owner, model, releases
):
    client.force_login(owner)
    url = reverse("model-align", args=[model.pk]) + "?benchmark=divervalue"
    response = client.post(
        url,
        {
            "target": "region=Western",
            "source": "release",
            "epochs": 2,
            "learning_rate": 5e-5,
            "beta": 0.1,
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_dropout": 0.05,
        },
    )
    assert response.status_code == 302
    job = EvaluationJob.objects.get(kind=JobKind.ALIGN)
    assert job.release.benchmark.slug == "divervalue"
    assert job.alignment["target"] == {"region": "Western"}
    assert job.alignment["dpo"]["num_train_epochs"] == 2
    assert "test_fraction" not in job.alignment


def test_an_unknown_benchmark_is_not_found(client, owner, model, releases):
    client.force_login(owner)
    url = reverse("model-align", args=[model.pk])
    assert client.get(url, {"benchmark": "nope"}).status_code == 404
