"""Shared fixtures. Tests run against the database in DATABASE_URL (PostgreSQL in CI)."""

import os

import pytest

# Model weights and datasets never come from a hub during tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def reference_data(request: pytest.FixtureRequest) -> None:
    """Nations and modes, as the migration seeds them, in every test that uses the database.

    A transactional test ends with a flush that empties every table, seeded ones included;
    without this, later tests would silently see no nations.
    """
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    if transactional or "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from leaderboard.benchmark.models import Benchmark, Mode, Nation
    from leaderboard.benchmark.nations import seed_reference_data
    from leaderboard.benchmark.registry_sync import sync_benchmarks

    sync_benchmarks(Benchmark)
    seed_reference_data(Nation, Mode)
