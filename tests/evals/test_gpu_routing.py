"""Issue 21, item 1: jobs go to the smallest GPU capacity that holds their model; a model none
holds is refused at submission, by the form and the API, with the reason."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from evaluation.capacity import Capacity
from leaderboard.evals import lifecycle, routing
from leaderboard.evals.card import JobCard
from leaderboard.evals.models import EvaluationJob, FailureKind, JobStatus, LanguageModel
from tests.factories import make_model

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SITE = (Capacity(1, 80), Capacity(4, 80))

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch):
    # The hub is unreachable here: a pinned submission is taken at its stated size.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def sends():
    with mock.patch("leaderboard.evals.tasks.run_evaluation.apply_async") as send:
        yield send


@pytest.fixture
def capacities(settings):
    settings.EVAL_GPU_CAPACITIES = SITE
    return settings


def submission(params_b: str, precision: str = "bfloat16") -> dict[str, str]:
    return {
        "name": f"org/model-{params_b}b",
        "revision": COMMIT,
        "precision": precision,
        "model_type": "base",
        "params_billions": params_b,
    }


def test_jobs_go_to_the_smallest_capacity_that_holds_the_model(
    client, owner, release, capacities, sends, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("submit"), submission("7"))
        client.post(reverse("submit"), submission("70"))
    queues = [call.kwargs["queue"] for call in sends.call_args_list]
    assert queues == [routing.queue_name("gpu.1x80g"), routing.queue_name("gpu.4x80g")]
    small, big = EvaluationJob.objects.order_by("model__params_billions")
    assert small.events.last().message == "Queued for a GPU worker with 1 x 80 GB"
    assert big.events.last().message == "Queued for a GPU worker with 4 x 80 GB"


def test_without_configured_capacities_jobs_keep_the_plain_gpu_queue(
    client, owner, release, sends, settings, django_capture_on_commit_callbacks
):
    settings.EVAL_GPU_CAPACITIES = ()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("submit"), submission("70"))
    assert sends.call_args.kwargs["queue"] == settings.BROKER_QUEUES["gpu"]


def test_the_form_refuses_a_model_no_gpu_worker_holds_with_the_reason(
    client, owner, release, capacities, sends
):
    client.force_login(owner)
    response = client.post(reverse("submit"), submission("70", precision="float32"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "No GPU worker of this site can hold this model" in page
    assert "70.0B parameters x 4 bytes in float32 + 25% for activations and the KV cache" in page
    assert "4 x 80 GB (4x80g), 320 GB in all" in page
    assert not LanguageModel.objects.exists() and not sends.called
    # The same model in bfloat16 (175 GB) fits four 80 GB GPUs.
    client.post(reverse("submit"), submission("70"))
    assert EvaluationJob.objects.count() == 1


def test_the_api_refuses_a_model_no_gpu_worker_holds_with_the_reason(
    owner, release, capacities, sends
):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    body = {**submission("99", precision="float32"), "params_billions": 99}
    response = api.post("/api/models/", body, format="json")
    assert response.status_code == 400
    [reason] = response.json()["precision"]
    assert reason.startswith("No GPU worker of this site can hold this model (99.0B parameters")
    assert not EvaluationJob.objects.exists() and not sends.called


def test_a_served_model_needs_no_gpu_capacity(capacities):
    model = make_model("served", params_billions=400.0)
    model.endpoint_url = "http://127.0.0.1:9/v1/completions"
    assert routing.capacity_for(model) is None


def test_a_job_whose_model_no_longer_fits_fails_as_the_sites_set_up(
    release, capacities, sends, django_capture_on_commit_callbacks
):
    model = make_model("org/big", params_billions=70.0)
    capacities.EVAL_GPU_CAPACITIES = (Capacity(1, 80),)  # the 8-GPU nodes were retired
    with django_capture_on_commit_callbacks(execute=True):
        job = lifecycle.create_job(model, release)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.failure_kind == FailureKind.SETUP
    assert "No GPU worker of this site can hold this model" in job.failure_reason
    assert not sends.called


def test_the_reaper_looks_for_waiting_jobs_on_every_gpu_queue(capacities):
    assert routing.gpu_queues() == [
        routing.queue_name(role) for role in ("gpu", "gpu.1x80g", "gpu.4x80g")
    ]
    waiting = {routing.queue_name("gpu.4x80g"): frozenset({"t1"})}
    with mock.patch(
        "leaderboard.evals.broker.queued_task_ids",
        side_effect=lambda q: waiting.get(q, frozenset()),
    ):
        assert lifecycle.queued_anywhere(routing.gpu_queues()) == {"t1"}
    with mock.patch("leaderboard.evals.broker.queued_task_ids", return_value=None):
        assert lifecycle.queued_anywhere(routing.gpu_queues()) is None


def test_the_card_shows_how_the_model_was_laid_out():
    def card(**model):
        return JobCard({"model": model}).layout

    assert (
        card(kind="hf", shards=2, replicas=1) == "sharded across 2 GPUs (transformers device_map)"
    )
    assert card(kind="vllm", shards=1, replicas=8) == "8 data-parallel copies"
    assert card(kind="hf") == ""  # written before layouts were recorded
    assert card(kind="openai-chat", shards=1, replicas=1) == ""
