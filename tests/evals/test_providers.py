"""Providers: staff register them in the admin with the NAME of the worker's secret; users
submit models served by them (form and API) within the usual limits, on the tracks such a
model can be scored on."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leaderboard.evals.models import EvaluationJob, Provider
from tests.evals.test_api import authenticate
from tests.factories import make_release
from tests.toy_benchmark.test_toy_benchmark import toy  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def provider(**fields: object) -> Provider:
    values: dict[str, object] = {
        "name": "acme",
        "base_url": "https://api.acme.example/v1/chat/completions",
        "key_secret": "ACME_API_KEY",
    } | fields
    return Provider.objects.create(**values)


def admin_form(**overrides: object) -> dict[str, object]:
    return {
        "name": "acme",
        "base_url": "https://api.acme.example/v1/chat/completions",
        "api_kind": "chat",
        "key_secret": "ACME_API_KEY",
        "concurrency": "2",
        "requests_per_minute": "60",
        "timeout_s": "30",
        "input_price_per_m": "2.5",
        "output_price_per_m": "10",
        "budget_usd": "3",
        "accepts_submissions": "on",
    } | overrides


def test_staff_register_a_provider_in_the_admin(admin_client):
    response = admin_client.post(reverse("admin:evals_provider_add"), admin_form())
    assert response.status_code == 302, response.content.decode()[-1500:]
    acme = Provider.objects.get()
    assert (acme.key_secret, acme.concurrency, acme.requests_per_minute) == ("ACME_API_KEY", 2, 60)
    assert acme.serving().input_price_per_m == 2.5


def test_a_pasted_key_is_refused_as_a_secret_name(admin_client):
    response = admin_client.post(
        reverse("admin:evals_provider_add"), admin_form(key_secret="sk-abc123def456")
    )
    assert response.status_code == 200
    assert "environment variable name" in response.content.decode()
    assert not Provider.objects.exists()


def test_a_user_submits_a_chat_model_through_the_api_for_the_generative_track(owner):
    release = make_release(per_cell=1)
    acme = provider()
    api = APIClient()
    authenticate(api, owner)
    response = api.post(
        "/api/models/",
        {"name": "acme-chat-large", "provider": "acme", "model_type": "instruct"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    job = EvaluationJob.objects.get()
    assert job.model.provider == acme and job.release == release
    # No method that needs log-likelihoods: its letters, and its free answers for the
    # reference judge (left out at run time where the site has none).
    assert job.methods == ["mc_gen", "aj_ref"]
    assert job.budget == acme.budget_usd


def test_an_open_model_is_not_queued_for_generated_letters(model, release):
    from leaderboard.evals import lifecycle

    job = lifecycle.create_job(model, release)
    assert job.methods == ["mc", "aj", "aj_ref"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"provider": "nobody"}, "'nobody' is not a provider accepting submissions"),
        ({"provider": "closed"}, "'closed' is not a provider accepting submissions"),
        (
            {"provider": "acme", "endpoint_url": "https://x.example/v1/completions"},
            "Name a provider or an endpoint, not both.",
        ),
    ],
)
def test_a_bad_provider_choice_is_explained(owner, data, message):
    make_release(per_cell=1)
    provider()
    provider(name="closed", accepts_submissions=False)
    api = APIClient()
    authenticate(api, owner)
    response = api.post("/api/models/", {"name": "acme-chat", **data}, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert not EvaluationJob.objects.exists()


@pytest.mark.usefixtures("toy")
def test_a_chat_model_cannot_be_sent_to_a_benchmark_scored_by_log_likelihood(owner):
    # The toy benchmark has only a log-likelihood method (DiverValue-Bench has PAA, judged).
    make_release(per_cell=1)
    make_release("toy-1", benchmark="toy", per_cell=1)
    provider()
    api = APIClient()
    authenticate(api, owner)
    response = api.post(
        "/api/models/",
        {"name": "acme-chat", "provider": "acme", "benchmarks": ["toy"]},
        format="json",
    )
    assert response.status_code == 400
    assert "toy cannot score a chat model" in str(response.json())


def test_the_form_lists_providers_accepting_submissions(client, owner):
    make_release(per_cell=1)
    provider()
    provider(name="closed", accepts_submissions=False)
    client.force_login(owner)
    page = client.get(reverse("submit")).content.decode()
    assert '<option value="acme">acme</option>' in page
    assert "closed" not in page


def test_the_same_model_name_at_two_providers_is_two_models(owner):
    make_release(per_cell=1)
    provider()
    provider(name="other-cloud", base_url="https://api.other.example/v1/chat/completions")
    api = APIClient()
    authenticate(api, owner)
    for name in ("acme", "other-cloud"):
        response = api.post(
            "/api/models/", {"name": "shared-chat", "provider": name}, format="json"
        )
        assert response.status_code == 201, response.json()
    again = api.post("/api/models/", {"name": "shared-chat", "provider": "acme"}, format="json")
    assert again.status_code == 400
    assert "shared-chat at acme in bfloat16 was already submitted" in json.dumps(again.json())
    served = EvaluationJob.objects.values_list("model__provider__name", flat=True)
    assert sorted(served) == ["acme", "other-cloud"]
