"""A provider's limits held across workers: two real processes using the metered client share
one token bucket and one set of leases in Redis against a real HTTP server that counts the
requests per window and the requests in flight; `Retry-After` honoured as sent, in seconds or
as an HTTP date, up to the cap; and a Redis that cannot be reached."""

from __future__ import annotations

import email.utils
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from evaluation.lm_eval_runner import load_lm
from evaluation.providers import metering
from evaluation.providers.client import ProviderBusy, retry_after_seconds
from evaluation.providers.limits import SharedLimits
from evaluation.spec import ModelSpec, Serving
from tests.openai_server import Json, OpenAIServer

CHAT = "/v1/chat/completions"
ROOT = Path(__file__).resolve().parents[2]


def redis_url() -> str:
    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith("redis"):
        pytest.skip("the shared limits need Redis: run with CELERY_BROKER_URL=redis://...")
    return url


class CountingProvider:
    """A provider's chat route that records when each request arrived and how many were in
    flight at once; each answer takes `hold_s`."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()

    def __call__(self, body: Json) -> Json:
        with self.lock:
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.hold_s)
        with self.lock:
            self.in_flight -= 1
        return {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "A"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1},
        }

    def most_in_window(self, window_s: float) -> int:
        times = sorted(self.arrivals)
        return max(
            (sum(1 for t in times[i:] if t < start + window_s) for i, start in enumerate(times)),
            default=0,
        )


@pytest.fixture
def server(tiny_model: Path):
    with OpenAIServer(tiny_model) as running:
        yield running


def run_two_workers(server: OpenAIServer, redis: str, requests: int, rpm: int, slots: int) -> None:
    prefix = f"test-limits-{uuid.uuid4().hex[:8]}"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    args = [server.chat_url, redis, prefix, str(requests), str(rpm), str(slots)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.limits_client", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        assert out.strip() == str(requests)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_workers_together_keep_to_the_providers_rate_and_concurrency(server):
    provider = CountingProvider(hold_s=0.3)
    server.routes[CHAT] = provider
    # 240 a minute: one start every 0.25 s, at most 4 in any second; 2 in flight.
    run_two_workers(server, redis_url(), requests=7, rpm=240, slots=2)
    assert len(provider.arrivals) == 14
    # Arrival times jitter by a few milliseconds: one request of slack per window, while
    # each worker on its own limit would send twice the rate (8 in a second).
    assert provider.most_in_window(1.0) <= 4 + 1
    assert provider.most_in_flight <= 2
    arrivals = sorted(provider.arrivals)
    assert arrivals[-1] - arrivals[0] >= 13 * 0.25 * 0.9


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_without_the_shared_limit_two_workers_send_twice_the_rate(server):
    """What the shared bucket prevents (and what a Redis outage falls back to): each process
    keeps the rate by itself."""
    provider = CountingProvider(hold_s=0.05)
    server.routes[CHAT] = provider
    run_two_workers(server, "-", requests=5, rpm=240, slots=2)
    assert provider.most_in_window(1.0) >= 7


def chat_spec(server: OpenAIServer, **serving: Any) -> ModelSpec:
    return ModelSpec(
        kind="openai-chat",
        pretrained="tiny-chat",
        base_url=server.chat_url,
        batch_size=1,
        apply_chat_template=True,
        serving=Serving(**({"timeout_s": 10} | serving)),
    )


def ask_one(lm: Any) -> str:
    return str(lm.chat([{"role": "user", "content": "Your Answer:"}], max_tokens=2))


def http_date(after_s: float) -> str:
    return email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=after_s), usegmt=True)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("header", ["2", "date"])
def test_retry_after_is_honoured_as_sent_in_seconds_or_as_an_http_date(server, header):
    value = http_date(3) if header == "date" else header  # a date is whole seconds: 2 to 3 s
    server.inject(f"429:{value}")
    with metering():
        lm = load_lm(chat_spec(server), "cpu")
        lm.retry_backoff_s = 0.01
        started = time.monotonic()
        ask_one(lm)
    waited = time.monotonic() - started
    assert len(server.requests_to(CHAT)) == 2
    assert 1.8 <= waited <= 8.0


@pytest.mark.timeout(60)
def test_a_wait_past_the_cap_stops_the_run_for_the_job_to_wait_not_fail(server):
    server.inject("429:120")
    with metering(retry_after_cap_s=30):
        lm = load_lm(chat_spec(server), "cpu")
        started = time.monotonic()
        with pytest.raises(ProviderBusy) as raised:
            ask_one(lm)
    assert time.monotonic() - started < 5
    assert raised.value.wait_s == 120
    assert "120 s" in str(raised.value) and "30 s" in str(raised.value)
    assert len(server.requests_to(CHAT)) == 1


def test_retry_after_reads_seconds_dates_and_nothing_else():
    now = datetime(2026, 12, 7, 1, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Mon, 07 Dec 2026 01:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Mon, 07 Dec 2026 00:59:00 GMT", now) == 0.0  # past: now
    for junk in (None, "", "soon", "-5", "1.5e9", "Mon, 99 Foo"):
        assert retry_after_seconds(junk, now) is None


@pytest.mark.timeout(60)
def test_a_retry_after_told_to_one_worker_holds_every_worker_sharing_the_limit(server):
    store = SharedLimits(redis_url(), f"test-limits-{uuid.uuid4().hex[:8]}")
    server.inject("429:2")
    with metering(limits=store):
        told = load_lm(chat_spec(server, requests_per_minute=6000), "cpu")
        other = load_lm(chat_spec(server, requests_per_minute=6000), "cpu")
        # The other worker's client has its own process-local state: only Redis links them.
        other.limiter.local = type(other.limiter.local)()
        thread = threading.Thread(target=ask_one, args=(told,))
        thread.start()
        while not server.requests_to(CHAT):
            time.sleep(0.01)
        time.sleep(0.2)  # the 429 has been answered and the pause recorded
        started = time.monotonic()
        ask_one(other)
        thread.join()
    assert time.monotonic() - started >= 1.3


@pytest.mark.timeout(60)
def test_an_unreachable_redis_falls_back_to_this_processes_limit_with_one_warning(server, caplog):
    store = SharedLimits("redis://127.0.0.1:1/0", "unreachable")
    caplog.set_level(logging.WARNING, logger="evaluation.providers.limits")
    with metering(limits=store):
        lm = load_lm(chat_spec(server, requests_per_minute=600, concurrency=2), "cpu")
        started = time.monotonic()
        for _ in range(3):
            ask_one(lm)
    assert time.monotonic() - started >= 2 * 0.1 * 0.9  # still spaced, by this process
    assert len(server.requests_to(CHAT)) == 3
    warnings = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(warnings) == 1
    assert "exceed" in warnings[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shared", [True, False])
def test_a_pause_past_the_cap_told_to_one_request_stops_the_next_unsent(server, shared):
    """Without a rate limit too: the pause is the provider's, not the bucket's. Shared in Redis
    it holds another worker's client; kept by this process, this process's other clients."""
    store = SharedLimits(redis_url(), f"test-limits-{uuid.uuid4().hex[:8]}") if shared else None
    server.inject("429:60")
    with metering(limits=store, retry_after_cap_s=5):
        told = load_lm(chat_spec(server), "cpu")
        other = load_lm(chat_spec(server), "cpu")
        if shared:
            other.limiter.local = type(other.limiter.local)()  # only Redis links them
        with pytest.raises(ProviderBusy):
            ask_one(told)
        with pytest.raises(ProviderBusy) as raised:
            ask_one(other)
    assert len(server.requests_to(CHAT)) == 1  # the other request was never sent
    assert 50 < raised.value.wait_s <= 60
    assert "asked every worker to wait" in str(raised.value)


@pytest.mark.timeout(60)
def test_a_lease_whose_release_redis_missed_is_released_once_it_answers(monkeypatch):
    """Redis unreachable as a request ends (a network cut): its place is given back when
    Redis answers again, not held until the lease runs out (the timeout plus 30 s)."""
    import redis

    from evaluation.providers import limits

    monkeypatch.setattr(limits, "RETRY_S", 0.0)
    store = SharedLimits(redis_url(), f"test-limits-{uuid.uuid4().hex[:8]}")
    limiter = store.limiter("http://provider.test/v1", None, None, concurrency=1, timeout_s=60)
    reachable = store.client
    with limiter.slot():
        store.client = redis.Redis.from_url("redis://127.0.0.1:1/0")  # the cut
    store.client = reachable
    started = time.monotonic()
    with limiter.slot():
        assert reachable.zcard(limiter._name("in-flight")) == 1  # this request's lease only
    assert time.monotonic() - started < 2
    assert reachable.zcard(limiter._name("in-flight")) == 0


@pytest.mark.timeout(120)
def test_the_command_line_ends_a_wait_past_the_cap_with_one_line_and_a_failing_status(
    server, tiny_release, tmp_path, capsys
):
    """No worker queues the run again from a terminal: the command says how long the provider
    asked to wait and exits, with no traceback."""
    from evaluation.cli import main

    server.inject("429:120")
    status = main(
        [
            "run", "--benchmark", "navab", "--kind", "openai-chat", "--model", "tiny-chat",
            "--base-url", server.chat_url, "--batch-size", "1", "--chat-template",
            "--methods", "mc_gen", "--limit", "1", "--release", str(tiny_release),
            "--out", str(tmp_path / "out"), "--device", "cpu",
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status != 0
    # Not "no Traceback at all": lm-eval's loggers may still hold an earlier test's closed
    # capture stream, and logging prints its own error for that.
    assert "ProviderBusy" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "120 s" in last and "again" in last
    assert len(server.requests_to(CHAT)) == 1
