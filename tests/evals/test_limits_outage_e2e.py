"""The providers' limits' Redis lost in the middle of a job, with a real Celery worker, a real
HTTP server and a redis-server of the test's own (EVAL_LIMITS_URL; the broker is the run's
usual one): the job goes on with the limits kept by the worker's process (still spaced to the
provider's rate), finishes with every answer, spends no retry, logs one warning, and the
site's pages answer throughout."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from django.urls import reverse

from leaderboard.evals.models import TERMINAL_STATUSES, JobStatus, Score
from tests.evals.test_api_model_e2e import KEY, SECRET, register, submit
from tests.evals.test_broker_outage import own_redis
from tests.evals.test_worker_e2e import status_of, wait_for
from tests.evaluation.test_provider_limits import CountingProvider
from tests.factories import make_release
from tests.openai_server import OpenAIServer
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHAT = "/v1/chat/completions"
PORT = 6405  # this helper's own fault-test Redis (the brief's 6400 + N)
RPM = 300  # one start every 0.2 s


@pytest.fixture
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


def test_the_limits_redis_killed_mid_job_leaves_the_job_finished_with_one_warning(
    client, owner, worker_settings, tiny_model, tmp_path
):
    release = make_release("outage", per_cell=2)
    items = release.items.count()
    provider = CountingProvider(hold_s=0.1)
    log = tmp_path / "worker.log"
    with OpenAIServer(tiny_model) as server, own_redis(PORT) as redis_server:
        server.routes[CHAT] = provider
        register(server, requests_per_minute=RPM, concurrency=2)
        env = {SECRET: KEY, "EVAL_LIMITS_URL": f"redis://127.0.0.1:{PORT}/0"}
        with running_worker(log, env):
            job = submit(client, owner)
            wait_for(lambda: len(provider.arrivals) >= 4, 120, "the first answers")
            redis_server.send_signal(signal.SIGKILL)
            redis_server.wait(timeout=10)
            killed_at = time.monotonic()
            for name, url in {
                "job": job.get_absolute_url(),
                "queue": reverse("queue"),
                "model": job.model.get_absolute_url(),
            }.items():
                assert client.get(url).status_code == 200, name
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
    assert job.infra_retries == 0 and job.usage["retries"] == 0
    assert job.usage["requests"] == items == len(provider.arrivals)
    assert Score.objects.filter(job=job, method="mc_gen").exists()
    after = [t for t in provider.arrivals if t > killed_at]
    assert after, "the Redis went before the job's last request"
    # Kept by the worker alone, the rate still holds (one request of slack for jitter).
    assert provider.most_in_window(1.0) <= RPM / 60 + 1
    warnings = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "limits' Redis cannot be reached" in line
    ]
    assert len(warnings) == 1, warnings
    assert "WARNING" in warnings[0] and "exceed" in warnings[0]
