"""End to end for a model behind a registered provider: submitted through the form, evaluated
by a real Celery worker over real HTTP with injected faults, shown on the generative board
with its unanswered counts and cost, and its key nowhere but on the worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from leaderboard.evals import lifecycle, sample_details
from leaderboard.evals.models import (
    TERMINAL_STATUSES,
    EvaluationJob,
    FailureKind,
    JobStatus,
    Provider,
    Score,
)
from tests.evals.test_worker_e2e import status_of, wait_for
from tests.factories import make_release
from tests.openai_server import OpenAIServer
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

KEY = "sk-live-e2e-5d41402abc4b2a76"
SECRET = "TINY_PROVIDER_KEY"
FAULTS = ("429", "500", "malformed", "slow", "reply:A", "think", "refuse", "blocked")


@pytest.fixture
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


def register(server: OpenAIServer, **fields: object) -> Provider:
    """As staff do in the admin."""
    values: dict[str, object] = {
        "name": "tiny-cloud",
        "base_url": server.chat_url,
        "key_secret": SECRET,
        "timeout_s": 5,
        "input_price_per_m": 3.0,
        "output_price_per_m": 15.0,
        "budget_usd": 1.0,
    } | fields
    provider = Provider(**values)
    provider.full_clean()
    provider.save()
    return provider


def submit(client, owner) -> EvaluationJob:
    client.force_login(owner)
    response = client.post(
        reverse("submit"),
        {
            "name": "qwen2.5-tiny-chat",
            "provider": "tiny-cloud",
            "precision": "auto",
            "model_type": "instruct",
            "family": "tiny",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    return EvaluationJob.objects.get()


def test_an_api_model_is_submitted_evaluated_over_http_and_ranked_on_the_generative_board(
    client, owner, worker_settings, tiny_model, tmp_path
):
    release = make_release("api", per_cell=2)
    with OpenAIServer(tiny_model) as server:
        server.slow_s = 7.0
        register(server)
        server.inject(*FAULTS)
        with running_worker(tmp_path / "worker.log", {SECRET: KEY}):
            job = submit(client, owner)
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
    items = release.items.count()
    assert Score.objects.filter(job=job, method="mc_gen").count() == 5 * 2
    assert not Score.objects.filter(job=job).exclude(method="mc_gen").exists()
    statuses = [parts.get("parse") for parts, _ in sample_details.read_job(job.pk).values()]
    assert len(statuses) == items
    assert statuses.count("refused") == 1 and statuses.count("blocked") == 1
    assert statuses.count("strict") >= 1
    # Every request carried the key; the faults were retried, each answer billed once.
    assert {h["Authorization"] for h in server.headers} == {f"Bearer {KEY}"}
    assert job.usage["requests"] == items
    assert job.usage["retries"] == 4
    assert job.usage["cost_usd"] > 0 and job.usage["budget_usd"] == 1.0

    board = client.get(reverse("board", args=["navab"]) + "?method=mc_gen").content.decode()
    assert job.model.display_name in board
    assert "generative track" in board
    assert "Unparsable / Ambiguous / Empty / Refused / Blocked" in board
    loglik_board = client.get(reverse("board", args=["navab"]) + "?method=mc").content.decode()
    assert job.model.display_name not in loglik_board

    model_page = client.get(job.model.get_absolute_url()).content.decode()
    job_page = client.get(job.get_absolute_url()).content.decode()
    for page in (model_page, job_page):
        assert "estimated cost" in page
    assert "--model local-chat-completions" in model_page
    assert f"OPENAI_API_KEY=&quot;${SECRET}&quot;" in model_page
    # The key is on the worker only: not in the database, a page, the card or the log.
    job.refresh_from_db()
    stored = json.dumps(
        [
            job.repro_card,
            job.usage,
            job.log_tail,
            job.failure_reason,
            *job.events.values_list("message", flat=True),
            *Provider.objects.values(),
        ],
        default=str,
    )
    for text in (stored, model_page, job_page, board):
        assert KEY not in text
    assert KEY not in (tmp_path / "worker.log").read_text(errors="replace")


def test_the_budget_stops_a_job_with_its_reason_and_its_cost(
    client, owner, worker_settings, tiny_model, tmp_path
):
    make_release("budget", per_cell=2)
    with OpenAIServer(tiny_model) as server:
        # A few requests spend it, two at a time: none is sent that the budget cannot pay.
        register(server, input_price_per_m=1e3, budget_usd=0.5, concurrency=2)
        server.inject("500")  # a failing request's error carries no key either
        with running_worker(tmp_path / "worker.log", {SECRET: KEY}):
            job = submit(client, owner)
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == FailureKind.MODEL and job.infra_retries == 0
    assert "budget of $0.5000 is spent" in job.failure_reason
    assert 0 < job.usage["requests"] < 20 and 0 < job.usage["cost_usd"] <= 0.5
    answered = len(server.requests_to("/v1/chat/completions")) - 1  # the 500
    assert job.usage["requests"] == answered
    assert f"after {answered} requests" in job.failure_reason
    page = client.get(job.get_absolute_url()).content.decode()
    assert "budget of $0.5000 is spent" in page and KEY not in page


def test_a_key_echoed_across_the_cut_of_an_error_reaches_no_page_api_or_log(
    client, owner, worker_settings, tiny_model, tmp_path
):
    """A provider's 400 that quotes the key about 266 characters in: the error keeps 300
    characters of the body, so the key straddles the cut."""
    make_release("echo", per_cell=1)
    key = "sk-Zq8vW3xK7pR2mN5tY9bC4jH6gF1dQ0u"

    def echo_the_key(body: dict[str, object], fault: str = "") -> dict[str, object]:
        raise ValueError("." * 243 + f"bad key {key}, try again later")

    with OpenAIServer(tiny_model) as server:
        server.chat_completions = echo_the_key  # type: ignore[method-assign]
        register(server)
        with running_worker(tmp_path / "worker.log", {SECRET: key}):
            job = submit(client, owner)
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "HTTP 400" in job.failure_reason
    assert "[redacted]" in job.failure_reason
    texts = {
        "failure reason": job.failure_reason,
        "log tail": job.log_tail,
        "events": json.dumps(list(job.events.values_list("message", flat=True))),
        "job page": client.get(job.get_absolute_url()).content.decode(),
        "job API": client.get(reverse("api:job-detail", args=[job.pk])).content.decode(),
        "worker log": (tmp_path / "worker.log").read_text(errors="replace"),
    }
    for where, text in texts.items():
        pieces = [key[i : i + 4] for i in range(len(key) - 3) if key[i : i + 4] in text]
        assert pieces == [], where


def test_a_jobs_usage_adds_up_over_its_retries_and_a_rerun_asks_the_provider_again(
    client, owner, worker_settings, tiny_model, tmp_path
):
    release = make_release("retried", per_cell=2)
    items = release.items.count()
    chat = "/v1/chat/completions"
    with OpenAIServer(tiny_model) as server:
        register(server)
        # Three answers, then one request fails every attempt: the try fails as
        # infrastructure and the job is retried; the answers already paid for are cached.
        server.inject("", "", "", *["500"] * 6)
        with running_worker(tmp_path / "worker.log", {SECRET: KEY}):
            job = submit(client, owner)
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
            assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
            assert job.infra_retries == 1
            answered = len(server.requests_to(chat)) - 6
            assert answered == items
            # Every answer the provider gave the job is on its meter, once.
            assert job.usage["requests"] == items and job.usage["cached"] >= 3
            assert job.usage["retries"] == 5

            rerun = lifecycle.rerun(job, owner)
            wait_for(lambda: status_of(rerun) in TERMINAL_STATUSES, 300, "the re-run to end")
    assert rerun.status == JobStatus.FINISHED, f"{rerun.failure_reason}\n{rerun.log_tail}"
    # A re-run asks the provider again, on its own meter.
    assert len(server.requests_to(chat)) - 6 == 2 * items
    assert (rerun.usage["requests"], rerun.usage["cached"]) == (items, 0)
