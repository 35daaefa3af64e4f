"""benchmarks/scale.py as shipped, on its tiny preset: it generates both publishers' layouts,
imports them through the command, measures every page and prints each figure beside its goal,
then removes its database and folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.benchmarks.test_web_load import database_exists, free_port, temporary_folder

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("dvb items filtered", "item page", "release card", "dvb board", "map", "disparity",
         "model page", "compare", "job page")  # fmt: skip
FIGURES = ("import divervalue: peak RSS", "import navab: no-op re-import",
           "bytes per per-example row", "parquet download", "first request after start-up")  # fmt: skip

pytestmark = pytest.mark.slow


def scale(*extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "benchmarks/scale.py", "--small", "--port", str(free_port())]
    return subprocess.run([*command, *extra], cwd=ROOT, capture_output=True, text=True, timeout=900)


def assert_reported(out: str) -> None:
    for label in PAGES:
        assert re.search(rf"^{label} +\d+ +\d+ +\d+ +\d+ +\d+ +[\d.]+ +[\d.]+$", out, re.M), label
        for kind in ("warm", "cold"):  # a cached response, and the page built: both at scale
            assert re.search(rf"^  {label}: {kind} time 8/4 models .*(pass|FAIL)$", out, re.M)
        for models in (4, 8):
            assert re.search(rf"^  {label}: cold p95, {models} models .*(pass|FAIL)$", out, re.M)
    for figure in FIGURES:
        assert re.search(rf"^  {figure}.*(pass|FAIL)$", out, re.M), figure
    # What per-example results of 200 models on both full releases take, rows and files.
    for slug in ("navab", "divervalue"):
        assert re.search(rf"^  {slug} +[\d,]+ rows a model; database \d+ B a row", out, re.M)
    assert re.search(r"^  both +database [\d.]+ GB, job files [\d.]+ GB$", out, re.M)
    assert "load average" in out
    # What each import cost in CPU, which its wall time on a busy machine does not say.
    assert (
        len(
            re.findall(
                r"^    \(CPU: the command [\d.]+ s.*; the no-op's command [\d.]+ s\)$", out, re.M
            )
        )
        == 2
    )
    assert not temporary_folder(out).exists()


def test_it_reports_every_figure_on_postgresql_and_drops_its_database():
    parsed = urlparse(os.environ["DATABASE_URL"])
    # Its run's own name: a second run given one that exists (a full-size run's) is refused.
    db_url = parsed._replace(path=f"{parsed.path}_scale_{os.environ['TEST_RUN_ID']}").geturl()
    result = scale("--db-url", db_url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_reported(result.stdout)
    assert not database_exists(db_url)


def test_it_reports_every_figure_on_sqlite():
    result = scale("--database", "sqlite")
    assert result.returncode == 0, result.stderr[-3000:]
    assert_reported(result.stdout)


def test_a_kept_state_times_the_pages_again_without_importing(tmp_path: Path):
    kept = tmp_path / "kept"
    first = scale("--database", "sqlite", "--keep", str(kept))
    assert first.returncode == 0, first.stderr[-3000:]
    assert (kept / "scale.sqlite3").is_file()

    again = scale("--database", "sqlite", "--reuse", str(kept))

    assert again.returncode == 0, again.stderr[-3000:]
    assert_reported(again.stdout)
    assert "imported divervalue" not in again.stdout  # no import this time
    assert f"(import figures: the run that kept {kept})" in again.stdout
    assert scale("--database", "sqlite", "--keep", str(kept)).returncode != 0  # never overwritten
