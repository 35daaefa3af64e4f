"""Shared fixtures. Tests run against the database in DATABASE_URL (PostgreSQL in CI).

Personas, the one scheme every test uses: `owner` (submits models; owns what a test builds),
`other_user` (signed in, owns nothing here), `staff` (is_staff, no admin permissions) and,
from pytest-django, `admin_user` (a superuser, e.g. a pipeline operator) and `client`
(anonymous). Each signed-in persona has its own client: `owner_client`, `other_client`,
`staff_client`, `admin_client`."""

import os

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client

# Model weights and datasets never come from a hub during tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests change boards from worker processes and roll the version row back between tests: read
# the board version on every request (tests/boards/test_version_memo.py sets it where tested).
django_settings.BOARD_VERSION_MEMO_MS = 0


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


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("owner", "owner@example.org", "pw-owner-123")


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user("other", "other@example.org", "pw-other-123")


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("staff", "staff@example.org", "pw-staff-123", is_staff=True)


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner: User) -> Client:
    return _signed_in(owner)


@pytest.fixture
def other_client(other_user: User) -> Client:
    return _signed_in(other_user)


@pytest.fixture
def staff_client(staff: User) -> Client:
    return _signed_in(staff)
