"""The benchmark scripts' runs each own their PostgreSQL database: a run given a database that
exists (another run's) refuses it and leaves it, and that run's connections, as they were. A
run that dropped and re-created it ended the other run's connections and had both runs writing
one database: the full-size import then found the small run's release of the same version and
was refused ("published and holds other items")."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

from tests.benchmarks.test_web_load import database_exists, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database_in_use() -> Iterator[tuple[str, psycopg.Connection[tuple[object, ...]]]]:
    """Another run's database, with a row it wrote and its connection open."""
    parsed = urlparse(os.environ["DATABASE_URL"])
    url = parsed._replace(path=f"{parsed.path}_in_use_{os.environ['TEST_RUN_ID']}").geturl()
    admin = parsed._replace(path="/postgres").geturl()
    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(url, autocommit=True) as other_run:
            other_run.execute("CREATE TABLE release (version text)")
            other_run.execute("INSERT INTO release VALUES ('scale-divervalue')")
            yield url, other_run
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(
    ("script", "extra"), [("scale", ["--small"]), ("web_load", ["--models", "5"])]
)
def test_a_run_refuses_a_database_that_exists_and_leaves_it_as_it_was(
    database_in_use, script, extra, monkeypatch
):
    url, other_run = database_in_use
    # The script's main, in this process: it must stop before it starts anything.
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.setattr(os, "environ", os.environ.copy())  # what a run exports stays its own
    monkeypatch.setattr(sys, "argv", [script, *extra, "--db-url", url, "--port", str(free_port())])
    main = importlib.import_module(script).main
    with pytest.raises(SystemExit) as refused:
        main()
    name = urlparse(url).path.lstrip("/")
    assert f"database {name} exists: another run may be using it" in str(refused.value)
    assert database_exists(url)
    # The other run's connection still works and reads what it wrote.
    assert other_run.execute("SELECT version FROM release").fetchall() == [("scale-divervalue",)]
