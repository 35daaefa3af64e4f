"""The reference judge end to end: a real worker scores an open tiny model's aj and aj_ref in
one job, records the judge, and a worker with another judge records the change."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.urls import reverse

from evaluation.local_models import public_name
from leaderboard.boards.queries import BoardQuery, build_board
from leaderboard.evals import lifecycle
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    JobStatus,
    LanguageModel,
    SampleResult,
    Score,
)
from tests.factories import make_release
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def finish(job: EvaluationJob, timeout: float = 300) -> EvaluationJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in TERMINAL_STATUSES:
            assert job.status == JobStatus.FINISHED, job.log_tail
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job.pk} did not end within {timeout:.0f} s")


def test_one_job_scores_aj_and_aj_ref_and_a_changed_judge_is_recorded(
    client, worker_settings, tmp_path: Path
):
    models = tmp_path / "models"
    tiny = build_tiny_model(models / "tiny-gpt2")
    letter_a = build_tiny_model(models / "judge-always-a", always_next=" A")
    other = build_tiny_model(models / "judge-seed1", seed=1)
    release = make_release("rj", per_cell=2, signal=False)
    model = LanguageModel.objects.create(name=str(tiny), revision="local-tiny", precision="float32")

    with running_worker(tmp_path / "w1.log", {"EVAL_REFERENCE_JUDGE": str(letter_a)}):
        first = finish(lifecycle.create_job(model, release))
    scores = Score.objects.filter(job=first)
    assert sorted(set(scores.values_list("method", flat=True))) == ["aj", "aj_ref", "mc"]
    assert scores.count() == 5 * 2 * 3
    assert first.repro_card["reference_judge"]["pretrained"] == public_name(str(letter_a))
    assert first.repro_card["not_run"] == {}
    # The always-"A" judge picks S exactly on the half where S is reference A.
    for score in scores.filter(method="aj_ref"):
        assert (score.parts["pos"]["value"], score.parts["neg"]["value"]) == (1.0, 0.0)
    answers = {
        (s.item_id, s.method): s.details["answer"]
        for s in SampleResult.objects.filter(job=first, method__in=["aj", "aj_ref"])
    }
    triples = {triple for triple, _ in answers}
    assert all(answers[(t, "aj")] == answers[(t, "aj_ref")] for t in triples)  # answered once

    with running_worker(tmp_path / "w2.log", {"EVAL_REFERENCE_JUDGE": str(other)}):
        second = finish(lifecycle.create_job(model, release))
    assert second.repro_card["reference_judge"]["pretrained"] == public_name(str(other))
    assert any(
        f"pretrained={public_name(str(other))}," in c for c in second.repro_card["lm_eval_commands"]
    )
    # Same model, same seed: the self-judged AJ is unchanged by the reference judge.
    aj = {
        job.pk: sorted(Score.objects.filter(job=job, method="aj").values_list("slice_key", "value"))
        for job in (first, second)
    }
    assert aj[first.pk] == aj[second.pk]

    worker_settings.EVAL_REFERENCE_JUDGE = str(other)
    board = build_board(BoardQuery(release=release, method="aj_ref"))
    assert [r.job_id for r in board.rows] == [second.pk]
    # A local judge by its folder's name and content fingerprint.
    assert [j.split("@")[0] for j in board.judges] == [public_name(str(other))]
    page = client.get(reverse("model-detail", args=[model.pk]), {"release": release.version})
    html = page.content.decode()
    # Named by its folder, never by its server path.
    assert "Reference judge" in html and public_name(str(other)) in html
    assert str(other) not in html
    assert "navab_aj_ref_us_quoted" in html


def test_the_aj_ref_board_ranks_a_served_chat_model_beside_an_open_one(
    client, owner, worker_settings, tmp_path: Path
):
    from tests.evals.test_api_model_e2e import KEY, SECRET, register, submit
    from tests.openai_server import OpenAIServer

    tiny = build_tiny_model(tmp_path / "models" / "tiny-gpt2")
    judge = build_tiny_model(tmp_path / "models" / "judge-seed1", seed=1)
    release = make_release("rj-api", per_cell=2, signal=False)
    worker_settings.EVAL_REFERENCE_JUDGE = str(judge)
    with OpenAIServer(tiny) as server:
        register(server)
        env = {SECRET: KEY, "EVAL_REFERENCE_JUDGE": str(judge)}
        with running_worker(tmp_path / "worker.log", env):
            chat = finish(submit(client, owner))
            open_model = LanguageModel.objects.create(
                name=str(tiny), revision="local-tiny", precision="float32"
            )
            local = finish(lifecycle.create_job(open_model, release))
    assert sorted(set(Score.objects.filter(job=chat).values_list("method", flat=True))) == [
        "aj_ref",
        "mc_gen",
    ]
    assert chat.repro_card["reference_judge"]["pretrained"] == public_name(str(judge))
    assert chat.usage["requests"] == 2 * release.items.count()  # letters, then free answers

    board = build_board(BoardQuery(release=release, method="aj_ref"))
    assert sorted(r.job_id for r in board.ranked) == sorted([chat.pk, local.pk])
    assert [j.split("@")[0] for j in board.judges] == [public_name(str(judge))]
    assert [r.job_id for r in build_board(BoardQuery(release=release, method="mc")).rows] == [
        local.pk
    ]
    html = client.get(reverse("board", args=["navab"]), {"method": "aj_ref"}).content.decode()
    assert chat.model.display_name in html and open_model.display_name in html
    assert "Judged track" in html
