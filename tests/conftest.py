"""Shared fixtures. Tests run against the database in DATABASE_URL (PostgreSQL in CI).

Personas, the one scheme every test uses: `owner` (submits models; owns what a test builds),
`other_user` (signed in, owns nothing here), `staff` (is_staff, no admin permissions) and,
from pytest-django, `admin_user` (a superuser, e.g. a pipeline operator) and `client`
(anonymous). Each signed-in persona has its own client: `owner_client`, `other_client`,
`staff_client`, `admin_client`."""

import multiprocessing.process
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client

pytest_plugins = ["tests.worker"]

# Model weights and datasets never come from a hub during tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests change boards from worker processes and roll the version row back between tests: read
# the board version on every request (tests/boards/test_version_memo.py sets it where tested).
django_settings.BOARD_VERSION_MEMO_MS = 0

# Tests that start processes (workers, servers, lm-eval or scripts in subprocesses, browsers)
# carry one of these markers: `make check` leaves them out, and they get a longer timeout.
PROCESS_MARKERS = ("slow", "e2e")
PROCESS_TIMEOUT_S = 900
_running: list[pytest.Item] = []
_started: dict[str, list[str]] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _may_start_processes(item) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(PROCESS_TIMEOUT_S))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    _running.append(item)  # set-up included: a session fixture may start the process
    try:
        return (yield)
    finally:
        _running.pop()


def _may_start_processes(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in PROCESS_MARKERS)


def _noting(start: Any, describe: Any) -> Any:
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        # ctypes.util.find_library probes with ldconfig/gcc when a library is first imported
        # (e.g. django.contrib.gis by drf-spectacular): the import, not the test, starts them.
        probing = sys._getframe(2).f_globals.get("__name__") == "ctypes.util"  # Popen(...)
        if _running and not probing and not _may_start_processes(_running[-1]):
            _started.setdefault(_running[-1].nodeid, []).append(describe(self, args))
        return start(self, *args, **kwargs)

    return wrapped


subprocess.Popen._execute_child = _noting(  # type: ignore[attr-defined]
    subprocess.Popen._execute_child,  # type: ignore[attr-defined]
    lambda _popen, args: " ".join(map(str, args[0] if isinstance(args[0], list) else [args[0]])),
)
multiprocessing.process.BaseProcess.start = _noting(
    multiprocessing.process.BaseProcess.start, lambda process, _args: f"process {process.name}"
)


@pytest.fixture(autouse=True)
def processes_are_marked(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test that starts a process without a marker saying so (see PROCESS_MARKERS)."""
    yield
    started = _started.pop(request.node.nodeid, [])
    if started:
        pytest.fail(
            f"started {len(started)} process(es) without @pytest.mark.slow (or e2e): "
            + "; ".join(command[:200] for command in started)
        )


@pytest.fixture(autouse=True)
def benchmark_rows(request: pytest.FixtureRequest) -> None:
    """The benchmark rows, as the migrations write them from the registry, in every test that
    uses the database.

    A transactional test ends with a flush that empties every table, seeded ones included;
    without this, later tests would silently see no benchmarks.
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
    from leaderboard.catalog.models import Benchmark
    from leaderboard.catalog.registry_sync import sync_benchmarks

    sync_benchmarks(Benchmark)


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
