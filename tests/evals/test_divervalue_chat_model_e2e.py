"""A chat model on DiverValue-Bench, end to end: submitted through the form on a registered
provider, it gets PAA only (it gives no log-likelihoods, so never OPA). A real worker sends its
answers and the panel's API judges through the one metered client over real HTTP with faults
injected; the PAA board lists it beside an open model, the OPA board does not, the card gives
the stock chat command, and the job's usage counts answers and judges. Without a panel the
submission is refused with the reason, and no job is queued."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.urls import reverse

from evaluation.benchmarks.divervalue.release import select_items
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    JobStatus,
    LanguageModel,
    SampleResult,
    Score,
)
from tests.evals.test_api_model_e2e import KEY, SECRET, register
from tests.evals.test_divervalue_paa_job import published_demo, release_dir_of
from tests.evals.test_worker_e2e import status_of, wait_for
from tests.factories import finished_job
from tests.openai_server import OpenAIServer
from tests.scripted_judge import chat_completions as scripted_judges
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

JUDGES = ("strict-judge", "chatty-judge")
CHAT_MODEL = "qwen2.5-tiny-chat"


def panel(url: str) -> str:
    return json.dumps(
        [
            {"name": name, "kind": "openai-chat", "model": name, "base_url": url,
             "api_key_env": SECRET, "serving": {"input_price_per_m": 1.0}}
            for name in JUDGES
        ]
    )  # fmt: skip


def submit_to_dvb(client, owner):
    client.force_login(owner)
    return client.post(
        reverse("submit"),
        {
            "name": CHAT_MODEL,
            "provider": "tiny-cloud",
            "precision": "auto",
            "model_type": "instruct",
            "family": "tiny",
            "benchmarks": ["divervalue"],
        },
    )


def open_model_with_paa(release) -> LanguageModel:
    """An open model already scored on both methods, to stand beside the chat model."""
    model = LanguageModel.objects.create(name="org/open-7b", revision="b" * 40)
    job = finished_job(model, release, methods=["opa", "paa"])
    for method, metric, value in [("opa", "opa", 0.3), ("paa", "paa", 0.4)]:
        Score.objects.create(
            job=job, slices={}, slice_key="", method=method, metric=metric, value=value, n=40,
            stderr=0.05, ci_low=value - 0.1, ci_high=value + 0.1,
        )  # fmt: skip
    return model


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_chat_model_gets_paa_through_the_metered_client_and_ranks_beside_open_models(
    client, owner, worker_settings, tmp_path, monkeypatch
):
    tiny = build_tiny_model(tmp_path / "tiny-gpt2")
    release = published_demo()
    open_model = open_model_with_paa(release)
    with OpenAIServer(tiny) as server:
        # The judges' names get the scripted verdicts; the chat model is the tiny model.
        def route(body):
            if body.get("model") in JUDGES:
                return scripted_judges(body)
            return server.chat_completions(body)

        server.routes["/v1/chat/completions"] = route
        register(server)
        judges = panel(server.chat_url)
        monkeypatch.setenv("EVAL_PAA_JUDGES", judges)  # the web host reads the same panel
        server.inject("429", "500", "malformed")
        env = {SECRET: KEY, "EVAL_PAA_JUDGES": judges, "EVAL_MAX_GEN_TOKENS": "8"}
        with running_worker(tmp_path / "worker.log", env):
            response = submit_to_dvb(client, owner)
            assert response.status_code == 302, response.content.decode()[-2000:]
            job = EvaluationJob.objects.get(model__name=CHAT_MODEL)
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    job.refresh_from_db()
    assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
    assert job.methods == ["paa"]
    assert not Score.objects.filter(job=job).exclude(method="paa").exists()
    n = len(select_items(release_dir_of(release)))  # the test split's users
    paa = Score.objects.get(job=job, method="paa", metric="paa", slices={})
    assert paa.n == n
    verdicts = set(SampleResult.objects.filter(job=job).values_list("chosen", flat=True))
    assert verdicts & {"W", "L"}  # the scripted judges' verdicts, read through the client
    # Its answers and both judges' verdicts: one billed request each, the faults retried.
    by_model = [body["model"] for path, body in server.requests if "chat" in path]
    assert sorted(set(by_model)) == sorted([CHAT_MODEL, *JUDGES])
    assert job.usage["requests"] == 3 * n and job.usage["retries"] == 3
    assert job.usage["cost_usd"] > 0
    assert {h["Authorization"] for h in server.headers} == {f"Bearer {KEY}"}

    paa_board = client.get(reverse("board", args=["divervalue"]), {"method": "paa"})
    paa_page = paa_board.content.decode()
    assert job.model.display_name in paa_page and open_model.display_name in paa_page
    opa_page = client.get(reverse("board", args=["divervalue"])).content.decode()
    assert open_model.display_name in opa_page and job.model.display_name not in opa_page

    model_page = client.get(job.model.get_absolute_url()).content.decode()
    [answer_command] = [c for c in job.repro_card["lm_eval_commands"] if "paa_answer" in c]
    for part in ("--model local-chat-completions", "--apply_chat_template", "--batch_size 1"):
        assert part in answer_command
    assert f"model={CHAT_MODEL}" in answer_command and "--device" not in answer_command
    assert "--model local-chat-completions" in model_page and "estimated cost" in model_page
    stored = json.dumps([job.repro_card, job.usage, job.log_tail], default=str)
    for text in (stored, model_page, paa_page):
        assert KEY not in text
    assert KEY not in (tmp_path / "worker.log").read_text(errors="replace")


@pytest.mark.django_db
def test_without_a_judge_panel_a_chat_model_is_refused_on_dvb_with_the_reason(
    client, owner, monkeypatch
):
    monkeypatch.delenv("EVAL_PAA_JUDGES", raising=False)
    published_demo()
    # The refusal comes before anything is sent: a provider that serves nothing will do.
    register(SimpleNamespace(chat_url="https://tiny.example/v1/chat/completions"))
    response = submit_to_dvb(client, owner)
    page = response.content.decode()
    assert response.status_code == 200
    assert "divervalue cannot score a chat model here: PAA was not run" in page
    assert "EVAL_PAA_JUDGES is empty" in page
    assert not EvaluationJob.objects.exists()
    assert not LanguageModel.objects.filter(name=CHAT_MODEL).exists()
