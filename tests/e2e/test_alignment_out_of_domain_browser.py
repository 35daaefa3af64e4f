"""An aligned DiverValue-Bench model's page in headless Chromium: its effect in domain and out of
domain (UF-P-4) side by side, UF-P-4 per subset, and the publisher's figures of both sets; the
UF-P-4 board labelled as DiverValue-Bench's out-of-domain set, linked from DiverValue-Bench's."""

from __future__ import annotations

import zlib

import pytest

from evaluation.benchmarks import get_benchmark
from leaderboard.boards.reported import import_reported
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import (
    EvaluationJob,
    JobKind,
    JobStatus,
    LanguageModel,
    ModelType,
    SampleResult,
)
from tests.factories import finished_job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _release(slug: str) -> DatasetRelease:
    benchmark = get_benchmark(slug)
    import_release(
        benchmark.demo_dir,
        benchmark=slug,
        version=f"{slug}-b1",
        licence="demo",
        source=DatasetRelease.Source.DEMO,
        is_demo=True,
        publish=True,
    )
    import_reported(benchmark.demo_dir.parent / "reported.json")
    return DatasetRelease.objects.get(version=f"{slug}-b1")


def _scored(model: LanguageModel, release: DatasetRelease, shift: float, excluded: list[str]):
    """A finished OPA run: a per-item margin that moves by SHIFT for the aligned model."""
    job = finished_job(model, release, methods=["opa"])
    job.exclude_uids = excluded
    job.save(update_fields=["exclude_uids"])
    rows = []
    for item in release.items.exclude(uid__in=excluded).order_by("uid"):
        margin = (zlib.crc32(item.uid.encode()) % 200) / 100 - 1.0 + shift
        rows.append(
            SampleResult.with_long(
                {},
                {"user_id": item.data.get("user_id", "")},
                job=job,
                item=item,
                method="opa",
                value=margin,
                correct=margin > 0,
                chosen="answer_w" if margin > 0 else "answer_l",
            )
        )
    SampleResult.store(job.pk, rows)
    return job


def test_the_aligned_models_page_shows_its_effect_in_and_out_of_domain(
    live_server, page, console, shoot
):
    dvb, ufp4 = _release("divervalue"), _release("ufp4")
    base = LanguageModel.objects.create(name="org/base", revision="a" * 40)
    aligned = LanguageModel.objects.create(
        name="org/base+dpo-female-j1",
        revision="b" * 40,
        model_type=ModelType.ALIGNED,
        base_model=base,
    )
    trained = list(dvb.items.exclude(data__split="test").values_list("uid", flat=True))
    EvaluationJob.objects.create(
        model=base,
        release=dvb,
        kind=JobKind.ALIGN,
        status=JobStatus.FINISHED,
        produced_model=aligned,
        repro_card={"exclude_uids": trained},
        alignment={
            "target": {"gender": "Female"},
            "out_of_domain": [{"benchmark": "ufp4", "release": ufp4.pk}],
        },
    )
    _scored(base, dvb, 0.0, trained)
    _scored(aligned, dvb, 0.8, trained)
    _scored(base, ufp4, 0.0, [])
    _scored(aligned, ufp4, 0.1, [])

    page.goto(f"{live_server.url}/models/{aligned.pk}/")
    side = page.locator("#alignment-side-by-side")
    side.scroll_into_view_if_needed()
    assert side.is_visible()
    assert side.locator("tr[data-set='in domain']").count() == 2
    outside = side.locator("tr[data-set='ufp4']")
    assert outside.count() == 2
    assert "out of domain (UF-P-4)" in outside.first.inner_text()
    delta = outside.locator("td[data-value]").nth(2)
    assert float(delta.get_attribute("data-value") or "nan") == pytest.approx(0.1)
    subsets = page.locator("#alignment-ood-ufp4 tbody tr")
    assert subsets.count() == 8  # four subsets, the margin and the correct rate
    assert "Instruction following" in page.locator("#alignment-ood-ufp4").inner_text()
    reported = page.locator("#alignment-reported")
    assert "Reported by the publisher, not run here" in reported.inner_text()
    qwen = reported.locator("tr[data-reported='Qwen-7B, LoRA + DPO on DVB-train']").inner_text()
    assert "0.8618" in qwen and "0.2181" in qwen
    shoot("alignment-in-and-out-of-domain")

    page.goto(f"{live_server.url}/ufp4/board/")
    note = page.locator("#out-of-domain-note")
    assert note.is_visible() and "never averaged" in note.inner_text()
    shoot("ufp4-board")
    page.goto(f"{live_server.url}/divervalue/board/")
    page.locator("#out-of-domain-links a").click()
    page.wait_for_url("**/ufp4/board/")
    assert console.take() == []
