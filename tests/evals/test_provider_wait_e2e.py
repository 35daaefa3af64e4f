"""A provider's `Retry-After` through a real Celery worker and a real HTTP server: a short one
is waited out in place by every request of the job, a long one (past EVAL_RETRY_AFTER_CAP_S)
sends the job back to the queue for that long, its stage saying until when, no retry spent,
and after the wait it finishes with its scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.evals.models import TERMINAL_STATUSES, JobStatus, Score
from tests.evals.test_api_model_e2e import KEY, SECRET, register, submit
from tests.evals.test_worker_e2e import status_of, wait_for
from tests.factories import make_release
from tests.openai_server import OpenAIServer
from tests.tiny_models import build_tiny_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHAT = "/v1/chat/completions"
CAP_S, SHORT_S, LONG_S = 3, 2, 10


@pytest.fixture
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


def arrivals_between(server: OpenAIServer, start: float, end: float) -> list[float]:
    return [t for t in server.arrived if start < t < end]


def test_a_short_retry_after_is_waited_in_place_and_a_long_one_requeues_the_job(
    client, owner, worker_settings, tiny_model, tmp_path
):
    release = make_release("wait", per_cell=2)
    items = release.items.count()
    with OpenAIServer(tiny_model) as server:
        # Two requests in flight at a time, and no requests-per-minute limit: a Retry-After
        # must still hold the job's other request thread, not only the one that was told.
        register(server, concurrency=2)
        server.inject(f"429:{SHORT_S}", "", "", f"429:{LONG_S}")
        env = {SECRET: KEY, "EVAL_RETRY_AFTER_CAP_S": str(CAP_S)}
        with running_worker(tmp_path / "worker.log", env):
            job = submit(client, owner)

            def waiting() -> bool:
                return status_of(job) == JobStatus.QUEUED and job.progress_stage.startswith(
                    "waiting for the provider until"
                )

            wait_for(lambda: waiting() or job.status in TERMINAL_STATUSES, 240, "the wait")
            assert job.status == JobStatus.QUEUED, f"{job.failure_reason}\n{job.log_tail}"
            page = client.get(job.get_absolute_url()).content.decode()
            assert "waiting for the provider until" in page and "UTC" in page
            assert f"Waiting {LONG_S} s for the provider" in page
            wait_for(lambda: status_of(job) in TERMINAL_STATUSES, 300, "the job to end")
    assert job.status == JobStatus.FINISHED, f"{job.failure_reason}\n{job.log_tail}"
    assert job.infra_retries == 0 and not job.failure_reason
    assert Score.objects.filter(job=job, method="mc_gen").exists()
    # One retry in place (the short wait); the long wait spent none.
    assert job.usage["retries"] == 1
    events = list(job.events.values_list("message", flat=True))
    assert sum("Waiting" in e for e in events) == 1

    arrived = server.arrived
    short_at, long_at = arrived[0], arrived[3]
    # While the provider asked to wait, no request of the job was sent: not the told
    # thread's retry, not the other thread's next request (one may already be in flight).
    assert arrivals_between(server, short_at + 0.5, short_at + SHORT_S - 0.2) == []
    assert arrivals_between(server, long_at + 1.0, long_at + LONG_S - 0.2) == []
    after = arrivals_between(server, long_at + LONG_S - 0.2, float("inf"))
    assert after, "the job was not run again after the wait"
    # Answers the job already had were not asked again (cached): each item answered once.
    assert len(server.requests_to(CHAT)) - 2 == items
