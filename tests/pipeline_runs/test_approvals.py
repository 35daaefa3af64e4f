"""Topic rows from the screening proposal, and the site's decisions written for the pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from leaderboard.pipeline_runs import approvals
from leaderboard.pipeline_runs.models import Decision, PipelineRun
from pipeline import stage_dir, write_approvals


def write_proposal(run: PipelineRun) -> None:
    directory = stage_dir(Path(run.run_dir), "screening")
    directory.mkdir(parents=True)
    topics = {
        "us-0": {
            "nation": "us",
            "keywords": ["border", "visa"],
            "label": "border, visa",
            "headlines": ["Visa rules tighten"],
            "proposed": True,
            "score": 1.0,
            "reason": "LLM answered 'yes'",
        },
        "us-1": {
            "nation": "us",
            "keywords": ["league", "goal"],
            "label": "league, goal",
            "headlines": ["Cup final"],
            "proposed": False,
            "score": 0.0,
            "reason": "LLM answered 'no'",
        },
    }
    (directory / "proposal.json").write_text(json.dumps({"method": "llm", "topics": topics}))


def test_it_creates_one_row_per_proposed_topic_once(demo_run):
    write_proposal(demo_run)
    assert approvals.sync_topics(demo_run) == 2
    assert approvals.sync_topics(demo_run) == 0
    row = demo_run.approvals.get(topic_id="us-0")
    assert (row.nation, row.keywords, row.proposed, row.score) == (
        "us",
        ["border", "visa"],
        True,
        1.0,
    )
    assert row.headlines == ["Visa rules tighten"]
    assert approvals.pending_count(demo_run) == 2


def test_decisions_already_on_file_are_carried_over(demo_run):
    write_proposal(demo_run)
    at = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    write_approvals(Path(demo_run.run_dir) / "approvals.json", {"us-1": False}, "cli-user", at)
    approvals.sync_topics(demo_run)
    row = demo_run.approvals.get(topic_id="us-1")
    assert (row.decision, row.decided_at, row.reviewer) == (Decision.REJECTED, at, None)
    assert approvals.pending_count(demo_run) == 1


def test_site_decisions_are_written_with_their_reviewer(demo_run, admin_user):
    write_proposal(demo_run)
    approvals.sync_topics(demo_run)
    approvals.decide(demo_run.approvals.filter(topic_id="us-0"), Decision.APPROVED, admin_user)
    assert approvals.write_decisions(demo_run) == 1
    on_file = json.loads((Path(demo_run.run_dir) / "approvals.json").read_text())["topics"]
    assert list(on_file) == ["us-0"]  # the pending topic stays undecided for the gate
    assert on_file["us-0"]["approved"] is True
    assert on_file["us-0"]["by"] == "admin"
