"""A provider's limits held by two real Celery workers, each evaluating a chat model of that
provider at the same time, against one real HTTP server that counts the requests it gets per
window and in flight: together they keep to the provider's requests per minute and
concurrency (shared in Redis, the run's own namespace), where each alone would send the
provider's limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from leaderboard.evals.models import TERMINAL_STATUSES, EvaluationJob, JobStatus, Score
from tests.evals.test_api_model_e2e import KEY, SECRET, register
from tests.evals.test_worker_e2e import status_of, wait_for
from tests.evaluation.test_provider_limits import CountingProvider
from tests.factories import make_release
from tests.openai_server import OpenAIServer
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHAT = "/v1/chat/completions"
RPM, SLOTS = 120, 2  # one start every 0.5 s (at most 2 in any second), 2 in flight


@pytest.fixture
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


def submit(client, name: str) -> EvaluationJob:
    response = client.post(
        reverse("submit"),
        {
            "name": name,
            "provider": "tiny-cloud",
            "precision": "auto",
            "model_type": "instruct",
            "family": "tiny",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    return EvaluationJob.objects.get(model__name=name)


def test_two_workers_evaluating_two_models_of_one_provider_keep_to_its_limits(
    client, owner, worker_settings, tiny_model, tmp_path
):
    release = make_release("shared", per_cell=2)
    items = release.items.count()
    provider = CountingProvider(hold_s=0.6)  # longer than the interval: both limits bind
    with OpenAIServer(tiny_model) as server:
        server.routes[CHAT] = provider
        register(server, requests_per_minute=RPM, concurrency=SLOTS)
        client.force_login(owner)
        env = {SECRET: KEY}
        with (
            running_worker(tmp_path / "worker-1.log", env),
            running_worker(tmp_path / "worker-2.log", env),
        ):
            jobs = [submit(client, "tiny-chat-one"), submit(client, "tiny-chat-two")]
            wait_for(
                lambda: all(status_of(job) in TERMINAL_STATUSES for job in jobs),
                300,
                "both jobs to end",
            )
    for job in jobs:
        assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
        assert Score.objects.filter(job=job, method="mc_gen").exists()
        assert job.usage["requests"] == items
    # Two workers ran them, at the same time.
    assert jobs[0].worker_host != jobs[1].worker_host
    first, second = sorted(jobs, key=lambda job: job.started_at)
    assert second.started_at < first.finished_at
    models = [body["model"] for body in server.requests_to(CHAT)]
    assert set(models) == {"tiny-chat-one", "tiny-chat-two"}
    assert len(provider.arrivals) == 2 * items
    # The provider's limits, both workers together (arrival times jitter by a few
    # milliseconds: one request of slack per window). Each worker on its own limit would
    # send 4 in a second and hold 4 in flight.
    assert provider.most_in_flight <= SLOTS
    assert provider.most_in_window(1.0) <= RPM / 60 + 1
    assert provider.most_in_window(5.0) <= 5 * RPM / 60 + 1
    arrivals = sorted(provider.arrivals)
    assert arrivals[-1] - arrivals[0] >= (2 * items - 1) * 60 / RPM * 0.9
