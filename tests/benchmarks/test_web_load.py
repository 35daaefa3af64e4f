"""benchmarks/web_load.py as shipped: it runs on a fresh database, and removes that database
whether it succeeds or fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url() -> str:
    # A database of its own next to the test database: the script creates and drops it.
    parsed = urlparse(os.environ["DATABASE_URL"])
    return parsed._replace(path=f"{parsed.path}_webload").geturl()


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


def web_load(db_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    small = ["--models", "5", "--clients", "2", "--requests", "20", "--workers", "1"]
    port = ["--port", str(free_port())]
    return subprocess.run(
        [sys.executable, "benchmarks/web_load.py", "--db-url", db_url, *small, *port, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_it_measures_the_board_and_drops_its_database(db_url):
    result = web_load(db_url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "leaderboard page" in result.stdout
    assert "static/page throughput ratio" in result.stdout
    assert not database_exists(db_url)


def test_it_drops_its_database_when_it_fails(db_url):
    result = web_load(db_url, "--path", "/no-such-page/")
    assert result.returncode != 0
    assert "/no-such-page/ answered 404" in result.stderr
    assert not database_exists(db_url)
