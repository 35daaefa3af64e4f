"""Warming across processes: new scores committed here, the board re-rendered by a real Celery
worker into the cache web processes share (Redis), the next visitor served from it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from leaderboard.boards.cache import versioned_key
from leaderboard.boards.responses import request_key
from leaderboard.evals.runner import store_results
from tests.boards.test_performance import running_job, scored_result
from tests.evals.test_broker_outage import free_port, own_redis
from tests.factories import make_model, make_release, ranked_model
from tests.worker import running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PAGE = reverse("board", args=["navab"])


def wait_for_rendering(path: str, timeout: float = 90.0) -> None:
    """Until the current board version's rendering of PATH is in the shared cache."""
    key = request_key(RequestFactory().get(path))
    deadline = time.monotonic() + timeout
    while cache.get(versioned_key(key)) is None:
        assert time.monotonic() < deadline, f"{path} was not warmed within {timeout:.0f} s"
        time.sleep(0.3)


def test_a_worker_renders_the_board_for_the_next_visitor(
    client, worker_settings, tmp_path: Path, django_assert_max_num_queries
):
    port = free_port()
    cache_url = f"redis://127.0.0.1:{port}/0"
    with own_redis(port):
        worker_settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": cache_url,
            }
        }
        release = make_release(per_cell=4, signal=False)
        for i in range(3):
            ranked_model(f"org/model-{i}", release, 0.4 + i / 10)
        assert client.get(PAGE).status_code == 200  # a visitor asked: remembered
        with running_worker(tmp_path / "worker.log", {"CACHE_URL": cache_url}, ["default"]):
            newcomer = make_model("org/newcomer")
            job = running_job(newcomer, release)
            assert store_results(job, "token-1", scored_result(newcomer, release, 0.99), tmp_path)
            wait_for_rendering(PAGE)
            with django_assert_max_num_queries(1):  # the version; the page came from the worker
                html = client.get(PAGE).content.decode()
        assert "org/newcomer" in html
