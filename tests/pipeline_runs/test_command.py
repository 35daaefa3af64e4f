"""`manage.py pipeline_run`: queue a run for the workers, or run it in this process."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from leaderboard.pipeline_runs.models import PipelineRun, RunStatus
from pipeline import STAGE_NAMES

from .conftest import DEMO_CONFIG


def test_it_queues_the_workflow(db, tmp_path, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks() as sent:
        call_command(
            "pipeline_run", str(DEMO_CONFIG), "--run-dir", str(tmp_path / "run"), stdout=out
        )
    run = PipelineRun.objects.get()
    assert run.status == RunStatus.QUEUED
    assert run.sent_stages() == list(STAGE_NAMES)
    assert len(sent) == 1
    assert "queued ingest" in out.getvalue()


def test_it_runs_in_process_and_reports_the_failure(db, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('run_dir = "run"\ninputs = ["missing.jsonl"]\n')
    with pytest.raises(CommandError, match="stage ingest failed"):
        call_command("pipeline_run", str(config), "--sync", stdout=io.StringIO())
    run = PipelineRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.run_dir == str(tmp_path / "run")


def test_it_refuses_a_config_that_does_not_load(db, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("run_dir: run\n")
    with pytest.raises(CommandError, match=r"must be a \.toml or \.json file"):
        call_command("pipeline_run", str(config), stdout=io.StringIO())
    assert not PipelineRun.objects.exists()
