"""Releases and models for job and submission tests (personas live in tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import LanguageModel
from tests.factories import make_release


@pytest.fixture
def release(db: None) -> DatasetRelease:
    return make_release(per_cell=2)


@pytest.fixture
def model(db: None, owner: User) -> LanguageModel:
    return LanguageModel.objects.create(name="org/tiny", revision="a" * 40, submitter=owner)


@pytest.fixture
def config_only_model(tmp_path: Path) -> Path:
    """A model directory with a config and no weights: enough for the submission checks."""
    directory = tmp_path / "models" / "tiny-gpt2"
    directory.mkdir(parents=True)
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "n_layer": 1,
        "n_head": 2,
        "n_embd": 16,
        "vocab_size": 100,
        "n_positions": 64,
    }
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.fixture
def model_factory(db: None, owner: User, tmp_path_factory: pytest.TempPathFactory):
    """Registers a tiny offline model (built once per test) as a LanguageModel."""
    from tests.tiny_models import build_tiny_model

    def make(name: str = "tiny") -> LanguageModel:
        path = build_tiny_model(tmp_path_factory.mktemp("models") / name)
        return LanguageModel.objects.create(
            name=str(path), revision=f"local-{name}", precision="float32", submitter=owner
        )

    return make


@pytest.fixture
def job_settings(settings: Any, tmp_path: Path) -> Any:
    """Jobs run in-process on the CPU, their files under the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVAL_RESULTS_DIR = tmp_path / "results"
    settings.LOCAL_MODELS_DIR = tmp_path / "models"
    settings.EVAL_DEVICE = "cpu"
    settings.EVAL_MAX_GEN_TOKENS = 4
    return settings
