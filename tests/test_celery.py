"""`celery worker --beat`: the beat it starts never outlives it, so a worker killed and restarted
never leaves a second beat sending the reaper twice per interval."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.worker import pool_processes, purge_queues, running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def kill_and_wait_for_its_children(log: Path) -> list[int]:
    """Start `worker --beat`, SIGKILL its main process only (as an OOM kill does), and return
    its children still running 15 s later (killed then: a test leaves nothing behind)."""
    with running_worker(log, beat=True) as worker:
        # The pool child and the beat child.
        assert wait(lambda: len(pool_processes(worker)) == 2, 60), log.read_text()[-2000:]
        assert wait(lambda: b"beat: Starting" in log.read_bytes(), 60)
        children = pool_processes(worker)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()

        def left() -> list[int]:
            return [pid for pid in children if alive(pid)]

        wait(lambda: not left(), 15)
        orphans = left()
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)
        return orphans


def test_a_worker_killed_with_sigkill_leaves_no_beat_behind(tmp_path: Path):
    purge_queues()
    # Killed, restarted, killed again: never a beat left over.
    for attempt in range(2):
        log = tmp_path / f"worker-{attempt}.log"
        assert kill_and_wait_for_its_children(log) == [], log.read_text()[-2000:]
    purge_queues()
