"""A real Celery worker in a subprocess, on the broker and test database the tests use.

A pytest plugin (tests/conftest.py loads it): `worker_settings` is the set-up every worker test
shares, and the run's own queues (tests/settings.py names them) are removed when it ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from leaderboard.celery import app

ROOT = Path(__file__).resolve().parent.parent


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "EVAL_RESULTS_DIR": str(settings.EVAL_RESULTS_DIR),
            "EVAL_HEARTBEAT_INTERVAL_S": "1",
            "EVAL_DEVICE": "cpu",
            "EVAL_MAX_GEN_TOKENS": "4",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def purge_queues() -> None:
    """Empty this run's queues; another run's, on the same broker, are not this run's to empty."""
    with app.connection_for_write() as conn:
        for queue in settings.BROKER_QUEUES.values():
            conn.default_channel.queue_purge(queue)


@pytest.fixture
def worker_settings(settings: Any, tmp_path: Path) -> Any:
    """Files the worker writes go to the test's folder, and the queues start empty."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVAL_RESULTS_DIR = tmp_path / "results"
    purge_queues()
    return settings


@pytest.fixture(scope="session", autouse=True)
def own_queues_removed() -> Iterator[None]:
    """Messages tests sent and no worker took leave the broker with the run."""
    yield
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        for queue in settings.BROKER_QUEUES.values():
            conn.default_channel.queue_delete(queue)


def queue_option(roles: Sequence[str]) -> list[str]:
    """`-Q` with the names of ROLES in this run's namespace; none for every role, so that the
    worker consumes the queues its own settings name (a worker of another namespace, its own)."""
    if set(roles) == set(settings.BROKER_QUEUES):
        return []
    return ["-Q", ",".join(settings.BROKER_QUEUES[role] for role in roles)]


@contextmanager
def running_worker(
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    queues: Sequence[str] = ("default", "gpu"),
    beat: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `celery worker` (prefork, one child; with its embedded beat where BEAT) on the
    QUEUES roles (settings.BROKER_QUEUES names them in the run's namespace) and wait until it
    is ready."""
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    log = log_path.open("ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "leaderboard",
            "worker",
            *queue_option(queues),
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            name,
            "--without-mingle",
            "--without-gossip",
            *(["--beat"] if beat else []),
        ],
        cwd=ROOT,
        env=worker_env(extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {log_path}")
            if b"ready." in log_path.read_bytes():
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"worker did not start; see {log_path}")
        yield proc
    finally:
        kill_worker(proc, sig=signal.SIGTERM)
        log.close()


def kill_worker(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal the worker's whole process group (main process and pool children)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def pool_processes(proc: subprocess.Popen[bytes]) -> list[int]:
    """Process ids of the worker's pool children (the processes that run its tasks)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        if parent == proc.pid:
            children.append(int(stat.parent.name))
    return children
