"""`manage.py serve_demo` stopped by a signal stops everything it started: the web server,
the Celery worker, and the worker's pool and beat children."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.worker import ROOT, kill_worker, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # The command name may hold spaces and parentheses: fields follow the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"serve_demo exited early:\n{path.read_text()[-3000:]}")
        time.sleep(0.3)
    raise AssertionError(f"no {text!r} within {timeout:.0f} s:\n{path.read_text()[-3000:]}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_it_stops_its_worker_when_signalled(worker_settings, tmp_path, sig):
    log_path = tmp_path / "serve_demo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve_demo", "--port", str(free_port())],
            cwd=ROOT,
            env=worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # lets the test clean up whatever leaks
        )
    try:
        wait_for_text(log_path, "ready.", proc, 120)  # the worker's own log line
        started = descendants(proc.pid)
        assert len(started) >= 2  # the worker and at least its pool child

        proc.send_signal(sig)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in started):
            time.sleep(0.2)
        assert [pid for pid in started if alive(pid)] == []
        # A normal stop is no error: the worker's pool ends without a signal of its own.
        log_text = log_path.read_text(errors="replace")
        assert "ERROR/" not in log_text and "exited with 'signal" not in log_text
    finally:
        for pid in descendants(proc.pid) | {proc.pid}:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        kill_worker(proc)
