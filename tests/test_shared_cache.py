"""The site keeps serving while the cache's Redis is down: pages and the API uncached (per
process), throttles counted per process, and one warning in the log per outage."""

from __future__ import annotations

import json
import logging
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.authtoken.models import Token

from leaderboard import shared_cache
from leaderboard.shared_cache import FallbackRedisCache
from tests.factories import make_release
from tests.web import free_port, running_gunicorn

UNREACHABLE_LOG = "cannot be reached"


def fetch(url: str, body: dict[str, object] | None = None, token: str = "") -> int:
    headers = {"Content-Type": "application/json"} | (
        {"Authorization": f"Token {token}"} if token else {}
    )
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_pages_and_the_api_answer_while_the_cache_redis_is_down(tmp_path: Path, owner: User):
    release = make_release(per_cell=2)
    token = Token.objects.create(user=owner).key
    log = tmp_path / "gunicorn.log"
    env = {
        "CACHE_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "API_SUBMISSION_RATE": "2/hour",
    }
    with running_gunicorn(log, env, workers=1) as base:
        pages = [
            reverse("board", args=["navab"]),
            reverse("board", args=["navab"]) + "?method=mc",
            reverse("api:model-list"),
            reverse("api:benchmark-detail", args=["navab"]),
            reverse("api:benchmark-release-detail", args=["navab", release.version]),
        ]
        statuses = {page: [fetch(base + page) for _ in range(3)] for page in pages}
        # The submission throttle still counts, in this process: a third POST is refused.
        posts = [fetch(base + reverse("api:model-list"), {}, token) for _ in range(3)]
    text = log.read_text()
    assert statuses == {page: [200] * 3 for page in pages}, text[-3000:]
    assert posts == [400, 400, 429], text[-3000:]
    assert text.count(UNREACHABLE_LOG) == 1, text[-3000:]


@pytest.fixture
def redis_port(tmp_path: Path):
    """A redis-server of our own, on a free port: (port, start, stop)."""
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(
            subprocess.Popen(
                ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True)
            if probe.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop() -> None:
        procs[-1].kill()
        procs[-1].wait()

    yield port, start, stop
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow  # its fixture starts a redis-server
def test_it_falls_back_to_memory_during_an_outage_and_returns_to_redis(
    redis_port, monkeypatch, caplog
):
    monkeypatch.setattr(shared_cache, "RETRY_S", 0.0)
    port, start, stop = redis_port
    start()
    url = f"redis://127.0.0.1:{port}/0"
    cache = FallbackRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1.0}})
    other = FallbackRedisCache(url, {})  # another thread's, as Django makes one per thread
    cache.set("board", "shared")
    assert other.get("board") == "shared"

    stop()
    with caplog.at_level(logging.WARNING, logger="leaderboard.shared_cache"):
        for _ in range(20):
            assert cache.get("board") is None  # not an error: a miss
        cache.set("board", "local")
        assert cache.get("board") == "local"
        assert cache.add("hits", 0) and cache.incr("hits") == 1
        start()
        assert cache.get("board") is None  # Redis again (restarted empty), not the local copy
        assert other.get("board") is None
    messages = [r.getMessage() for r in caplog.records]
    assert sum(UNREACHABLE_LOG in m for m in messages) == 1, messages
    assert sum("answers again:" in m for m in messages) == 1, messages
