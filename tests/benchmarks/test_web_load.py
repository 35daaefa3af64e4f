"""benchmarks/web_load.py as shipped: it runs on a fresh database, and removes that database
whether it succeeds or fails."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

pytestmark = pytest.mark.slow  # runs the script, which starts gunicorn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url() -> str:
    # A database of its own next to the test database, named for the run: the script creates
    # and drops it, and refuses one that exists.
    parsed = urlparse(os.environ["DATABASE_URL"])
    return parsed._replace(path=f"{parsed.path}_webload_{os.environ['TEST_RUN_ID']}").geturl()


def database_exists(url: str) -> bool:
    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [parsed.path.lstrip("/")]
        ).fetchone()
    return row is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command(db_url: str, *extra: str) -> list[str]:
    small = ["--models", "5", "--clients", "2", "--requests", "20", "--workers", "1"]
    port = ["--port", str(free_port())]
    return [sys.executable, "benchmarks/web_load.py", "--db-url", db_url, *small, *port, *extra]


@contextmanager
def script(db_url: str, *extra: str) -> Iterator[subprocess.Popen[str]]:
    """The script in a process group of its own, with the gunicorn it starts: however the test
    ends (a failed assertion, its timeout), the script gets SIGTERM to clean up, then what is
    left of the group is killed."""
    proc = subprocess.Popen(
        command(db_url, *extra),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=60)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def web_load(db_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    with script(db_url, *extra) as proc:
        out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def temporary_folder(stdout: str) -> Path:
    return Path(re.search(r"temporary folder (\S+)", stdout).group(1))


def test_it_measures_both_boards_exports_and_the_api_against_static_twins(db_url):
    result = web_load(db_url)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for label in ("navab page", "dvb page", "navab json export", "navab csv export"):
        assert f"\n{label} " in out
    assert "api page_size=500" in out
    rows = [line for line in out.splitlines() if line.startswith(("navab ", "dvb ", "api "))]
    assert len(rows) == 8
    assert all(line.split()[-9] == "0" for line in rows), rows  # no errors in any row
    assert "[met]" in out or "[NOT met]" in out
    assert re.search(r"all goals met: (yes|no)", out)
    assert not database_exists(db_url)
    assert not temporary_folder(out).exists()


def test_it_drops_its_database_when_it_fails(db_url):
    result = web_load(db_url, "--path", "/no-such-page/")
    assert result.returncode != 0
    assert "/no-such-page/ answered 404" in result.stderr
    assert not database_exists(db_url)


def test_it_removes_what_it_created_when_interrupted(db_url):
    with script(db_url, "--requests", "100000") as proc:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # wait until the database is full and gunicorn about to start
            seen.append(line)
            if line.startswith("fill took"):
                break
        assert database_exists(db_url)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "interrupted" in err
    assert "removed: server, temporary folder, database" in out
    assert not database_exists(db_url)
    assert not temporary_folder("".join(seen)).exists()
