"""Runs for the pipeline-runs app: the demo config, moved into a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from leaderboard.pipeline_runs import workflow
from leaderboard.pipeline_runs.models import PipelineRun

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "pipeline" / "demo" / "sample.toml"
SAMPLE_CORPUS = REPO / "pipeline" / "sample_corpus"


@pytest.fixture
def demo_run(db: None, tmp_path: Path, admin_user: User) -> PipelineRun:
    """The demo config (scripted backend, sample corpus) with its run directory in tmp_path."""
    return workflow.create_run(
        config_path=str(DEMO_CONFIG), run_dir=str(tmp_path / "run"), created_by=admin_user
    )


@pytest.fixture
def broken_run(db: None, tmp_path: Path) -> PipelineRun:
    """A run whose only input does not exist: its first stage fails."""
    text = f'run_dir = "{tmp_path / "run"}"\ninputs = ["{tmp_path / "missing.jsonl"}"]\n'
    return workflow.create_run(config_text=text)
