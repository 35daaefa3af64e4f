"""Stages 4-5: value-sensitive topic screening, as a proposal an operator approves.

The paper's released code screens topics with a hand-picked list. Here screening is reviewable
and reproducible: the `screening` stage proposes (LLM yes/no per topic, or an embedding
classifier against value-laden and neutral seed descriptions) and writes proposal.json with a
score and reason per topic; the `approval` stage waits until the operator's decisions exist for
every proposed topic in the approvals file (written by the site's admin, or by hand with
`write_approvals`), records who decided what and when, and passes the approved topics on.
Until then the run's status is "awaiting approval".

Approvals file (JSON):
    {"topics": {"us-0": {"approved": true, "by": "alice", "at": "2025-05-01T10:00:00+00:00"}}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.checkpoint import read_json, read_jsonl, write_json
from pipeline.context import StageContext
from pipeline.embed import Embedder, Vectors
from pipeline.ingest import read_documents
from pipeline.prompts import TOPIC_SCREENING, parse_yes_no

HEADLINES_PER_TOPIC = 3

# Descriptions a value-sensitive topic resembles, and descriptions of topics that are not.
VALUE_SEEDS = (
    "debate over human rights, civil liberties and freedom of speech",
    "government policy on immigration, asylum and national identity",
    "controversy over abortion, family values and religion in public life",
    "disagreement about climate policy, energy transition and who should pay",
    "national sovereignty, territorial disputes, military alliances and security",
    "social justice, inequality, welfare and the role of the state in the economy",
    "election integrity, democracy, censorship and the rule of law",
)
NEUTRAL_SEEDS = (
    "sports results, match scores and athletes' transfers",
    "weather forecast, storms and temperatures",
    "celebrity gossip, film releases and entertainment news",
    "product launches, gadgets and consumer technology reviews",
    "traffic, transport timetables and travel tips",
    "recipes, food and restaurant reviews",
)


class AwaitingApproval(Exception):
    """The approvals file lacks decisions for some proposed topics; the run must wait."""

    def __init__(self, pending: list[str], path: Path) -> None:
        self.pending = pending
        super().__init__(
            f"awaiting approval of {len(pending)} topic(s) in {path}: {', '.join(pending[:10])}"
        )


def _topic_members(ctx: StageContext) -> dict[str, list[int]]:
    """Row numbers (in document order) of each topic's documents."""
    members: dict[str, list[int]] = {}
    for row, item in enumerate(read_jsonl(ctx.input_dir("tags") / "assignments.jsonl")):
        if item["topic"] is not None:
            members.setdefault(item["topic"], []).append(row)
    return members


def embedding_scores(
    centroids: Vectors, embedder: Embedder, margin: float
) -> list[tuple[bool, float, str]]:
    """Score = best cosine to a value-laden seed minus best cosine to a neutral seed."""
    value = embedder.encode(list(VALUE_SEEDS))
    neutral = embedder.encode(list(NEUTRAL_SEEDS))
    results = []
    for centroid in centroids:
        v_sim, n_sim = value @ centroid, neutral @ centroid
        score = float(v_sim.max() - n_sim.max())
        nearest = VALUE_SEEDS[int(v_sim.argmax())]
        results.append((score > margin, round(score, 4), f"closest value seed: {nearest}"))
    return results


def run(ctx: StageContext) -> None:
    topics: dict[str, dict[str, Any]] = read_json(ctx.input_dir("tags") / "topics.json")
    documents = read_documents(ctx.input_dir("ingest"))
    members = _topic_members(ctx)
    ids = sorted(topics)
    if ctx.config.screening.method == "llm":
        prompts = [
            TOPIC_SCREENING.format(
                keywords=", ".join(topics[t]["keywords"]),
                headlines="\n".join(
                    f"- {documents[r].title}" for r in members[t][:HEADLINES_PER_TOPIC]
                ),
            )
            for t in ids
        ]
        verdicts: list[tuple[bool, float | None, str]] = []
        for answer in ctx.generate(prompts):
            decision = parse_yes_no(answer)
            if decision is None:
                ctx.output.drop("screening_unparsable")
                verdicts.append((False, None, f"unparsable answer: {answer.strip()[:80]!r}"))
            else:
                verdicts.append(
                    (decision, float(decision), f"LLM answered {answer.strip()[:40]!r}")
                )
    else:
        vectors = np.load(ctx.input_dir("topics") / "embeddings.npy")
        centroids = (
            np.stack([vectors[members[t]].mean(axis=0) for t in ids]) if ids else vectors[:0]
        )
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        centroids = centroids / np.maximum(norms, 1e-12)
        verdicts = list(embedding_scores(centroids, ctx.embedder(), ctx.config.screening.margin))
    proposal: dict[str, dict[str, Any]] = {}
    for topic_id, (proposed, score, reason) in zip(ids, verdicts, strict=True):
        proposal[topic_id] = {
            **topics[topic_id],
            "headlines": [documents[r].title for r in members[topic_id][:HEADLINES_PER_TOPIC]],
            "proposed": proposed,
            "score": score,
            "reason": reason,
        }
    write_json(
        ctx.out / "proposal.json", {"method": ctx.config.screening.method, "topics": proposal}
    )
    ctx.output.counts.update(
        topics=len(ids), proposed=sum(1 for p in proposal.values() if p["proposed"])
    )
    ctx.progress(len(ids), len(ids))


def read_approvals(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    decisions: dict[str, dict[str, Any]] = data.get("topics", {})
    for topic_id, decision in decisions.items():
        if not isinstance(decision, dict) or not isinstance(decision.get("approved"), bool):
            raise ValueError(f"{path}: topic {topic_id!r} needs an 'approved' true/false")
    return decisions


def write_approvals(
    path: Path, decisions: Mapping[str, bool], reviewer: str, at: datetime | None = None
) -> None:
    """Record an operator's decisions (merged into earlier ones); written atomically."""
    if not reviewer:
        raise ValueError("an approval must name its reviewer")
    stamp = (at or datetime.now(UTC)).isoformat(timespec="seconds")
    merged = read_approvals(path)
    for topic_id, approved in decisions.items():
        merged[topic_id] = {"approved": bool(approved), "by": reviewer, "at": stamp}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    write_json(partial, {"topics": dict(sorted(merged.items()))})
    partial.replace(path)


def run_approval(ctx: StageContext) -> None:
    proposal = read_json(ctx.input_dir("screening") / "proposal.json")["topics"]
    path = ctx.config.approvals_file
    decisions = read_approvals(path)
    pending = sorted(t for t in proposal if t not in decisions)
    if pending:
        raise AwaitingApproval(pending, path)
    approved = sorted(t for t in proposal if decisions[t]["approved"])
    record = {t: {**decisions[t], "proposed": proposal[t]["proposed"]} for t in sorted(proposal)}
    write_json(ctx.out / "approved.json", {"approved": approved, "decisions": record})
    overridden = sum(1 for t in proposal if decisions[t]["approved"] != proposal[t]["proposed"])
    ctx.output.counts.update(approved=len(approved), rejected=len(proposal) - len(approved))
    ctx.output.counts["overridden"] = overridden
    ctx.progress(len(proposal), len(proposal))
