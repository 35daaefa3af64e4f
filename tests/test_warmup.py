"""A web process pays its one-off costs (view imports, template compiling, plotly and pyarrow)
when it starts, not in its first visitor's request."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from leaderboard.warmup import warm_up

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys
import leaderboard.wsgi
from django.template import engines
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "modules": sorted(m for m in sys.modules if m.startswith(("leaderboard.", "plotly", "pyarrow"))),
    "templates": len(getattr(loader, "get_template_cache", {})),
}))
"""


@pytest.mark.slow
def test_loading_the_wsgi_application_imports_every_view_and_compiles_every_template():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leaderboard.settings"}
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


def test_gunicorn_loads_and_warms_the_application_once_before_forking_its_workers():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True


@pytest.mark.django_db(transaction=True)  # outside a transaction a close closes
def test_warming_up_leaves_no_database_connection_for_forked_workers_to_share():
    connection.ensure_connection()
    warm_up()
    assert connection.connection is None
