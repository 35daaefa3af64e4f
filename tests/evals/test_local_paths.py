"""A local model and a local judge are published by name and content fingerprint: no page, API
answer, export or card gives the server path they sit at (`/srv/.../var/models/...`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from django.urls import reverse

from evaluation.model_check import local_fingerprint
from evaluation.results import ReproCard, ScoreRow
from evaluation.spec import ModelSpec
from leaderboard.evals.models import EvaluationJob, JobStatus, LanguageModel
from leaderboard.evals.runner import store_results
from tests.factories import MODES, NATIONS, make_release, repro_card

pytestmark = pytest.mark.django_db


def local_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (path / "model.safetensors").write_bytes(b"weights")
    return path


@pytest.fixture
def served_root(tmp_path: Path) -> Path:
    return tmp_path / "srv" / "navab-site" / "var" / "models"


@pytest.fixture
def local_job(settings, tmp_path: Path, served_root: Path) -> EvaluationJob:
    model_dir = local_dir(served_root / "tiny-local")
    judge_dir = local_dir(served_root / "judge-local")
    settings.EVAL_REFERENCE_JUDGE = str(judge_dir)
    settings.EVAL_RESULTS_DIR = tmp_path / "results"
    release = make_release("r1", per_cell=1)
    model = LanguageModel.objects.create(
        name=str(model_dir), revision=local_fingerprint(model_dir), params_billions=0.001
    )
    job = EvaluationJob.objects.create(
        model=model, release=release, status=JobStatus.RUNNING, celery_task_id="t"
    )
    card = repro_card(model, release, ["mc", "aj_ref"])
    card["reference_judge"] = ModelSpec(pretrained=str(judge_dir)).to_dict()
    card["command"] += f" --reference-judge {judge_dir}"
    rows = [
        ScoreRow(
            value=0.6,
            n=10,
            stderr=0.05,
            ci_low=0.5,
            ci_high=0.7,
            slices={"nation": n, "mode": m},
            method=method,
            metric="acc",
        )
        for n in NATIONS
        for m in MODES
        for method in ("mc", "aj_ref")
    ]
    card.pop("not_run", None)
    result_card = ReproCard(**card)
    from evaluation.results import EvaluationResult

    assert store_results(
        job, "t", EvaluationResult(rows, [], replace(result_card)), settings.EVAL_RESULTS_DIR
    )
    job.refresh_from_db()
    return job


def test_no_page_api_or_card_gives_a_local_models_or_judges_server_path(
    client, local_job, served_root
):
    model = local_job.model
    urls = [
        model.get_absolute_url(),
        local_job.get_absolute_url(),
        reverse("job-status", args=[local_job.pk]),
        "/navab/board/?nation=us&mode=quoted&method=mc",
        "/navab/board/?method=aj_ref",
        "/navab/board/export.csv?method=aj_ref",
        "/navab/board/export.json?method=aj_ref",
        "/navab/methodology/",
        "/queue/",
        "/api/models/",
        f"/api/models/{model.pk}/",
        f"/api/jobs/{local_job.pk}/",
        "/api/benchmarks/navab/leaderboard/?method=aj_ref",
    ]
    server_path = str(served_root.parent.parent)  # /tmp/.../srv/navab-site
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert server_path not in body, url
        assert "/var/models/" not in body, url
    page = client.get(model.get_absolute_url()).content.decode()
    assert "tiny-local" in page and model.revision[:13] in page
    # The judge by name and fingerprint, on the board that ranks by its verdicts.
    board = client.get("/navab/board/?method=aj_ref").content.decode()
    assert "./judge-local@local-" in board
    card = local_job.repro_card
    assert card["model"]["pretrained"] == "./tiny-local"
    assert card["reference_judge"]["revision"].startswith("local-")
    assert "--reference-judge ./judge-local" in card["command"]


def test_the_form_says_a_local_model_may_be_submitted_and_where(client, owner, settings, tmp_path):
    settings.SUBMISSION_LOCAL_ROOTS = [tmp_path / "models"]
    client.force_login(owner)
    page = client.get(reverse("submit")).content.decode()
    assert "absolute path of a model directory on this server" in page
    assert str(tmp_path / "models") in page
