"""Personas and runs for the pipeline app: the demo config, moved into a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from leaderboard.pipeline_runs import workflow
from leaderboard.pipeline_runs.models import PipelineRun

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "pipeline" / "demo" / "sample.toml"
SAMPLE_CORPUS = REPO / "pipeline" / "sample_corpus"


@pytest.fixture
def operator(db: None) -> User:
    """Staff with every admin permission: runs and approves pipelines."""
    return User.objects.create_superuser("operator", "operator@example.org", "pw-operator-123")


@pytest.fixture
def member(db: None) -> User:
    return User.objects.create_user("member", "member@example.org", "pw-member-123")


@pytest.fixture
def operator_client(operator: User) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def demo_run(db: None, tmp_path: Path, operator: User) -> PipelineRun:
    """The demo config (scripted backend, sample corpus) with its run directory in tmp_path."""
    return workflow.create_run(
        config_path=str(DEMO_CONFIG), run_dir=str(tmp_path / "run"), created_by=operator
    )


@pytest.fixture
def broken_run(db: None, tmp_path: Path) -> PipelineRun:
    """A run whose only input does not exist: its first stage fails."""
    text = f'run_dir = "{tmp_path / "run"}"\ninputs = ["{tmp_path / "missing.jsonl"}"]\n'
    return workflow.create_run(config_text=text)
