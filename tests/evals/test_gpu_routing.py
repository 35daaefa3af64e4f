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


LLAMA_7B = {
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "vocab_size": 32000,
    "intermediate_size": 11008,
}


def aligning(owner, tmp_path, params_b: float) -> LanguageModel:
    """A model of PARAMS_B billion parameters with Llama-7B's shape (its config, no weights)."""
    import json

    (tmp_path / "config.json").write_text(json.dumps(LLAMA_7B))
    return LanguageModel.objects.create(
        name="llama-like",
        revision="local-0123",
        weights_path=str(tmp_path),
        params_billions=params_b,
        precision="bfloat16",
        submitter=owner,
    )


ALIGN_FORM = {
    "target": "nation=us",
    "narrow_mode": ["quoted"],
    "source": "release",
    "epochs": 1,
    "learning_rate": 5e-5,
    "beta": 0.1,
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "test_fraction": 0.2,
}


def test_an_alignment_job_is_routed_by_its_training_need_on_one_gpu(
    client, owner, release, settings, tmp_path, django_capture_on_commit_callbacks
):
    """Scoring a 7B model (17 GB) fits a 24 GB GPU; DPO + LoRA training it (about 48 GB, on
    one GPU) needs the 80 GB one, so its job goes there."""
    settings.EVAL_GPU_CAPACITIES = (Capacity(2, 24), Capacity(1, 80))
    model = aligning(owner, tmp_path, 6.74)
    assert routing.capacity_for(model) == Capacity(2, 24)
    client.force_login(owner)
    with (
        mock.patch("leaderboard.evals.tasks.run_alignment.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("model-align", args=[model.pk]), ALIGN_FORM)
    assert response.status_code == 302, response.context["form"].errors
    assert send.call_args.kwargs["queue"] == routing.queue_name("gpu.1x80g")
    job = EvaluationJob.objects.get(model=model)
    assert job.events.last().message == "Queued for a GPU worker with 1 x 80 GB"


def test_an_alignment_no_gpu_holds_is_refused_with_the_sum(
    client, owner, release, settings, tmp_path
):
    settings.EVAL_GPU_CAPACITIES = (Capacity(1, 40), Capacity(8, 40))  # 40 GB cards only
    model = aligning(owner, tmp_path, 6.74)
    client.force_login(owner)
    response = client.post(reverse("model-align", args=[model.pk]), ALIGN_FORM)
    assert response.status_code == 200
    error = " ".join(response.context["form"].non_field_errors())
    assert (
        "No GPU worker of this site can align this model (DPO + LoRA training: 13.5 GB weights"
        in error
    )
    assert (
        "the largest GPU of this site's workers has 40 GB (1x40g), and this runs on one GPU"
        in error
    )
    assert not EvaluationJob.objects.filter(model=model).exists()
