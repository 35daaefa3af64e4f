"""Topic approvals: screening proposals become TopicApproval rows; decisions go back to the run.

The pipeline's approval gate reads decisions from the run's approvals file; the site is where
operators make them. After screening, each proposed topic gets a row (decisions already in the
file, e.g. written with the CLI, are carried over). Before the approval stage runs, the site's
decisions are written to the file with `pipeline.write_approvals`, naming the reviewer.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leaderboard.pipeline_runs.models import Decision, PipelineRun, TopicApproval
from pipeline import read_proposal, write_approvals
from pipeline.runner import approvals_path
from pipeline.screening import read_approvals


def sync_topics(run: PipelineRun) -> int:
    """Create a row for every proposed topic that lacks one; returns how many were created."""
    run_dir = Path(run.run_dir)
    proposal: dict[str, dict[str, Any]] = read_proposal(run_dir).get("topics", {})
    on_file = read_approvals(approvals_path(run_dir))
    existing = set(run.approvals.values_list("topic_id", flat=True))
    rows = []
    for topic_id, topic in sorted(proposal.items()):
        if topic_id in existing:
            continue
        row = TopicApproval(
            run=run,
            topic_id=topic_id,
            nation=str(topic.get("nation", topic_id.split("-", 1)[0])),
            label=str(topic.get("label", ""))[:255],
            keywords=list(topic.get("keywords", [])),
            headlines=list(topic.get("headlines", [])),
            proposed=bool(topic.get("proposed")),
            score=topic.get("score"),
            reason=str(topic.get("reason", "")),
        )
        if topic_id in on_file:
            decided = on_file[topic_id]
            row.decision = Decision.APPROVED if decided["approved"] else Decision.REJECTED
            row.decided_at = parse_datetime(str(decided.get("at", ""))) or timezone.now()
        rows.append(row)
    TopicApproval.objects.bulk_create(rows)
    return len(rows)


def pending_count(run: PipelineRun) -> int:
    return run.approvals.filter(decision=Decision.PENDING).count()


def write_decisions(run: PipelineRun) -> int:
    """Write the site's decisions for `run` into its approvals file; returns how many.

    Rows without a reviewer came from the file in the first place and are left as they are.
    """
    path = run.pipeline_config().approvals_file
    groups: dict[tuple[str, datetime], dict[str, bool]] = defaultdict(dict)
    decided = run.approvals.exclude(decision=Decision.PENDING).filter(reviewer__isnull=False)
    for row in decided.select_related("reviewer"):
        assert row.reviewer is not None and row.decided_at is not None
        key = (row.reviewer.get_username(), row.decided_at)
        groups[key][row.topic_id] = row.decision == Decision.APPROVED
    for (reviewer, at), decisions in sorted(groups.items(), key=lambda item: item[0][1]):
        write_approvals(path, decisions, reviewer, at)
    return sum(len(d) for d in groups.values())


def decide(rows: QuerySet[TopicApproval], decision: Decision, reviewer: Any) -> tuple[int, int]:
    """Record `decision` by `reviewer` now; returns (recorded, refused).

    Refused: rows of runs that already passed the approval gate, where a decision could no
    longer change what the run produced.
    """
    open_rows = rows.exclude(run__counts__has_key="approval")
    refused = rows.count() - open_rows.count()
    recorded = open_rows.update(decision=decision, reviewer=reviewer, decided_at=timezone.now())
    return recorded, refused
