"""A chat model's generation settings: chosen at submission (form and API), validated with a
clear message (never a 5xx), given to the worker's spec and shown on the job's card."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from evaluation.providers.generation import Generation
from leaderboard.evals import lifecycle
from leaderboard.evals.models import EvaluationJob, JobEvent, JobStatus, LanguageModel
from leaderboard.evals.runner import model_spec
from tests.evals.test_api import authenticate
from tests.evals.test_providers import provider
from tests.factories import make_release

pytestmark = pytest.mark.django_db

REASONING = {"max_tokens": 2048, "reasoning": True, "reasoning_effort": "high"}


def api_submit(owner: Any, generation: Any, **fields: Any) -> Any:
    api = APIClient()
    authenticate(api, owner)
    body = {"name": "acme-o", "provider": "acme", "model_type": "instruct"} | fields
    if generation is not None:
        body["generation"] = generation
    return api.post("/api/models/", body, format="json")


def test_the_api_stores_a_chat_models_settings_and_the_worker_sends_them(owner):
    make_release(per_cell=1)
    provider()
    response = api_submit(owner, REASONING | {"system_prompt": "Answer briefly."})
    assert response.status_code == 201, response.json()
    model = LanguageModel.objects.get()
    assert model.generation == REASONING | {"system_prompt": "Answer briefly."}
    spec = model_spec(model)
    assert spec.generation == Generation(
        max_tokens=2048, reasoning=True, reasoning_effort="high", system_prompt="Answer briefly."
    )
    shown = APIClient().get(f"/api/models/{model.pk}/").json()
    assert shown["generation"]["reasoning_effort"] == "high"


def test_a_model_submitted_without_settings_keeps_every_default(owner):
    make_release(per_cell=1)
    provider()
    assert api_submit(owner, None).status_code == 201
    model = LanguageModel.objects.get()
    assert model.generation == {}
    assert model_spec(model).generation == Generation()


@pytest.mark.parametrize(
    ("generation", "message"),
    [
        ("lots", "Expected a dictionary"),
        ({"max_tokens": 0}, "greater than or equal to 1"),
        ({"max_tokens": "many"}, "valid integer"),
        ({"max_tokens": 10**9}, "less than or equal to"),
        ({"temperature": 7}, "less than or equal to 2"),
        ({"temperature": "warm"}, "valid number"),
        ({"reasoning": True, "temperature": 0.5}, "reasoning model is sent no temperature"),
        ({"reasoning_effort": "high"}, "needs reasoning mode"),
        ({"reasoning": True, "reasoning_effort": "extreme"}, "not a valid choice"),
        ({"system_prompt": "x" * 5000}, "no more than 4000"),
        ({"max_token": 64}, "unknown generation settings: max_token"),
        ([1, 2], "Expected a dictionary"),
    ],
)
def test_garbage_settings_are_refused_by_the_api_with_their_reason(owner, generation, message):
    make_release(per_cell=1)
    provider()
    response = api_submit(owner, generation)
    assert response.status_code == 400
    assert message in str(response.json()["generation"])
    assert not LanguageModel.objects.exists()


def test_settings_for_a_model_that_takes_none_are_refused(owner):
    make_release(per_cell=1)
    provider(name="acme-logprobs", api_kind="completions")
    response = api_submit(owner, {"temperature": 0.3}, provider="acme-logprobs")
    assert response.status_code == 400
    assert "chat models served by a registered provider" in str(response.json()["provider"])


def form_data(**overrides: str) -> dict[str, str]:
    return {
        "name": "acme-o",
        "precision": "auto",
        "model_type": "instruct",
        "provider": "acme",
    } | overrides


def test_the_form_stores_the_settings(client, owner):
    make_release(per_cell=1)
    provider()
    client.force_login(owner)
    response = client.post(
        reverse("submit"),
        form_data(max_output_tokens="512", temperature="0.7", system_prompt="Be brief."),
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    model = LanguageModel.objects.get()
    assert model.generation == {"max_tokens": 512, "temperature": 0.7, "system_prompt": "Be brief."}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reasoning": "on", "temperature": "0.5"}, "reasoning model is sent no temperature"),
        ({"reasoning_effort": "low"}, "needs reasoning mode"),
        ({"max_output_tokens": "-3"}, "greater than or equal to 1"),
        ({"temperature": "nan"}, "Enter a number"),
    ],
)
def test_the_form_shows_what_is_wrong_with_the_settings(client, owner, fields, message):
    make_release(per_cell=1)
    provider()
    client.force_login(owner)
    response = client.post(reverse("submit"), form_data(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LanguageModel.objects.exists()


def test_the_job_card_shows_the_settings_the_run_sent(client, owner):
    make_release(per_cell=1)
    provider()
    assert api_submit(owner, REASONING | {"system_prompt": "Answer briefly."}).status_code == 201
    job = EvaluationJob.objects.get()
    spec = model_spec(job.model)
    job.repro_card = {
        "model": spec.to_dict(),
        "max_gen_toks": 2048,
        "methods": ["mc_gen"],
        "release": {"version": job.release.version},
    }
    job.save()
    page = client.get(job.get_absolute_url()).content.decode()
    assert "reasoning: no stop sequences, no temperature, max_completion_tokens" in page
    assert "Reasoning effort</dt><dd data-generation>high" in page
    assert "Answer briefly." in page
    assert "Temperature</dt>" not in page


def test_a_job_the_provider_asks_to_wait_is_queued_again_for_then_and_not_failed(
    owner, django_capture_on_commit_callbacks, monkeypatch
):
    make_release(per_cell=1)
    provider()
    assert api_submit(owner, None).status_code == 201
    job = EvaluationJob.objects.get()
    EvaluationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, celery_task_id="token-1", heartbeat_at=timezone.now()
    )
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(
        lifecycle, "enqueue", lambda job_id, **kwargs: sent.append({"job": job_id} | kwargs)
    )
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.wait(job.pk, "token-1", 600, "HTTP 429 asking to wait 600 s")
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and not job.failure_reason
    assert job.infra_retries == 0
    assert job.progress_stage.startswith("waiting for the provider until")
    assert sent == [{"job": job.pk, "countdown_s": 600}]
    assert "Waiting 600 s for the provider" in JobEvent.objects.filter(job=job).last().message
    # The reaper leaves it alone until it is due.
    stale = EvaluationJob.objects.stale(timezone.now(), timedelta(seconds=60), timedelta(0))
    assert job not in stale
    # A stale delivery cannot make a job wait.
    assert lifecycle.wait(job.pk, "token-1", 5, "late") is None
