"""A web process pays its one-off costs (view imports, the URL reverse table, template
compiling, plotly and pyarrow, the current releases' counts, a full garbage collection) when it
starts, not in its first visitor's request."""

from __future__ import annotations

import gc
import json
import os
import re
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches, get_resolver, reverse
from django.utils.translation import get_language

from leaderboard.catalog import counts
from leaderboard.warmup import TRACES, warm_up
from tests.factories import make_release

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys
import leaderboard.wsgi
import pyarrow
from django.template import engines
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "modules": sorted(m for m in sys.modules if m.startswith(("leaderboard.", "plotly", "pyarrow"))),
    "templates": len(getattr(loader, "get_template_cache", {})),
    "arrow_pool": pyarrow.default_memory_pool().backend_name,
}))
"""


@pytest.fixture(autouse=True)
def undo_process_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """warm_up freezes what the test process holds by then (handed back to the collector
    after), sets the collector's thresholds (restored after) and sets Arrow's pool in the
    environment, which every process a later test starts would inherit (restored after)."""
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.slow
def test_loading_the_wsgi_application_warms_it_up_even_on_a_database_not_migrated_yet(tmp_path):
    # On a database not migrated yet (an empty SQLite file): the application still loads,
    # only the releases' counts are left to the first request.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leaderboard.settings"}
    env.pop("DATABASE_URL", None)
    env["NAVAB_VAR_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=240, check=True,
    )  # fmt: skip
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    for module in (
        "leaderboard.boards.views.models",
        "leaderboard.boards.views.disparity",
        "leaderboard.catalog.views.pages",
        "leaderboard.catalog.views.downloads",
        "plotly.graph_objects",
        "pyarrow.parquet",
    ):
        assert module in loaded["modules"], module
    shipped = len(list((ROOT / "templates").rglob("*.html")))
    assert loaded["templates"] >= shipped
    assert "releases not counted" in done.stderr
    # Arrow's buffers come from malloc, which reuses them, not from mimalloc, which kept them
    assert loaded["arrow_pool"] == "system"


def test_gunicorn_loads_and_warms_the_application_once_before_forking_its_workers():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True


@pytest.mark.django_db(transaction=True)  # outside a transaction a close closes
def test_warming_up_leaves_no_database_connection_for_forked_workers_to_share():
    connection.ensure_connection()
    warm_up()
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_warming_up_builds_the_url_reverse_table_requests_use():
    clear_url_caches()
    warm_up()
    assert get_language() in get_resolver()._reverse_dict


@pytest.mark.django_db(transaction=True)
def test_after_warming_up_the_item_browser_does_not_count_the_current_release_again():
    make_release("r1", per_cell=2, manifest={"content_sha256": "warm-up-test"})
    counts._MEMO.clear()
    cache.clear()
    warm_up()
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(reverse("browse", args=["navab"]))
    assert response.status_code == 200
    grouped = [
        q["sql"] for q in captured if "GROUP BY" in q["sql"] and "benchmark_item" in q["sql"]
    ]
    assert grouped == []


@pytest.mark.django_db(transaction=True)
def test_warming_up_freezes_what_the_process_holds_so_no_request_pays_a_full_collection():
    warm_up()
    assert gc.get_freeze_count() > 0


@pytest.mark.django_db(transaction=True)
def test_after_warming_up_a_request_holding_a_large_board_runs_no_collection():
    warm_up()
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(info["generation"]))
    try:
        # As many objects as the rows and cells of a cold 1,000-model board keep alive.
        rows = [{"cells": [{"value": float(i)}]} for i in range(12_000)]
    finally:
        gc.callbacks.pop()
    assert len(rows) == 12_000 and collections == []


def test_the_warm_up_draws_every_plotly_trace_type_the_site_draws():
    drawn = set()
    for path in (ROOT / "leaderboard").rglob("*.py"):
        drawn |= set(re.findall(r"\bgo\.([A-Z]\w*)\(", path.read_text(encoding="utf-8")))
    drawn -= {"Figure", "Layout"}
    assert drawn and drawn <= set(TRACES)
