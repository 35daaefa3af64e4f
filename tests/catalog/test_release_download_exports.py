"""`python -m evaluation export-tasks` takes whatever a release is downloaded as: the file the
release page serves (saved under the name it is served as), the publisher's folder and the
release directory the site's workers read; the tasks exported from each are the same, and
stock lm-eval loads them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.benchmarks import get_benchmark
from evaluation.cli import main
from leaderboard.catalog.exports import release_directory
from leaderboard.catalog.importer import import_release
from leaderboard.catalog.models import DatasetRelease
from tests.tiny_models import build_tiny_model

pytestmark = pytest.mark.django_db

# The download formats each benchmark's release reader supports.
DOWNLOADS = [
    ("navab", "jsonl"),
    *((slug, fmt) for slug in ("divervalue", "ufp4") for fmt in ("jsonl", "csv", "parquet")),
]


def _release(slug: str) -> DatasetRelease:
    return import_release(
        get_benchmark(slug).demo_dir,
        benchmark=slug,
        version=f"{slug}-demo-1",
        licence="cc-by-4.0",
        publish=True,
    ).release


def _download(release: DatasetRelease, fmt: str, folder: Path) -> Path:
    """The release page's download, saved as a browser saves it (its served file name)."""
    url = reverse("download-release", args=[release.benchmark.slug, release.version, fmt])
    response = Client().get(url)
    assert response.status_code == 200
    served = re.search(r'filename="([^"]+)"', response["Content-Disposition"])
    assert served is not None
    folder.mkdir(parents=True)
    path = folder / served.group(1)
    path.write_bytes(b"".join(response.streaming_content))
    return path


def _export(slug: str, release_path: Path, out: Path) -> list[str]:
    assert main(["export-tasks", "--benchmark", slug, str(release_path), str(out)]) == 0
    return sorted(p.stem for p in out.glob("*.yaml"))


def _documents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.jsonl"))}


@pytest.mark.parametrize(("slug", "fmt"), DOWNLOADS)
def test_it_exports_the_release_pages_download_as_the_workers_release(slug, fmt, tmp_path):
    release = _release(slug)
    download = _download(release, fmt, tmp_path / "download")

    tasks = _export(slug, download.parent, tmp_path / "from-folder")
    assert _export(slug, download, tmp_path / "from-file") == tasks
    assert _export(slug, release_directory(release), tmp_path / "from-site") == tasks
    assert _export(slug, get_benchmark(slug).demo_dir, tmp_path / "from-publisher") == tasks

    expected = _documents(tmp_path / "from-site")
    assert expected
    for exported in ("from-folder", "from-file", "from-publisher"):
        assert _documents(tmp_path / exported) == expected


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.mark.parametrize("slug", ["navab", "divervalue", "ufp4"])
def test_stock_lm_eval_loads_the_tasks_exported_from_a_download(slug, tiny_model, tmp_path):
    from lm_eval.tasks import TaskManager, get_task_dict

    download = _download(_release(slug), "jsonl", tmp_path / "download")
    out = tmp_path / "tasks"
    _export(slug, download.parent, out)
    # The tasks a log-likelihood run scores: NaVAB's MC cells, DiverValue-Bench's OPA (on
    # DVB-test and on UF-P-4).
    wanted = sorted(
        p.stem for p in out.glob("*.yaml") if re.match(r"navab_mc_|divervalue_opa|ufp4_opa", p.stem)
    )
    assert wanted

    # lm-eval hands the run's model_args to a task's loader (OPA counts tokens with it).
    manager = TaskManager(
        include_path=str(out), include_defaults=False, metadata={"pretrained": str(tiny_model)}
    )
    loaded = get_task_dict(wanted, manager)
    assert sorted(loaded) == wanted
    for name, task in loaded.items():
        written = (out / "data" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(list(task.eval_docs)) == len(written) > 0
