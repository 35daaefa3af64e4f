"""Stage 3 (LLM): instruction tags for the documents HDBSCAN left as outliers.

Outliers are often on real issues that had too few articles to form a dense cluster. Each one
gets a short tag from the LLM (the paper's InsTag step); documents of one nation with the same
normalised tag form a topic "<nation>-tag-<slug>". A reply that is not a short one-line tag is
counted as unparsable and its document stays without a topic (it cannot be screened).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from pipeline.checkpoint import read_json, read_jsonl, write_json, write_jsonl
from pipeline.context import StageContext
from pipeline.ingest import read_documents
from pipeline.prompts import OUTLIER_TAG, excerpt

MAX_TAG_WORDS = 6
MAX_TAG_CHARS = 60
_TAG_WORD = re.compile(r"\w+")


def parse_tag(answer: str) -> str | None:
    """The tag's normalised words joined by "-", or None if the answer is not a short tag."""
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    if len(lines) != 1 or len(lines[0]) > MAX_TAG_CHARS:
        return None
    words = _TAG_WORD.findall(lines[0].lower().removeprefix("tag:"))
    if not 1 <= len(words) <= MAX_TAG_WORDS:
        return None
    return "-".join(words)


def run(ctx: StageContext) -> None:
    source = ctx.input_dir("topics")
    documents = {d.doc_id: d for d in read_documents(ctx.input_dir("ingest"))}
    topics: dict[str, dict[str, Any]] = read_json(source / "topics.json")
    assignments = list(read_jsonl(source / "assignments.jsonl"))
    outliers = [row for row in assignments if row["topic"] is None]
    prompts = [
        OUTLIER_TAG.format(
            title=documents[row["doc_id"]].title, text=excerpt(documents[row["doc_id"]].text)
        )
        for row in outliers
    ]
    answers = ctx.generate(prompts) if prompts else []
    members: dict[str, list[str]] = defaultdict(list)
    for row, answer in zip(outliers, answers, strict=True):
        slug = parse_tag(answer)
        if slug is None:
            ctx.output.drop("tag_unparsable")
            continue
        doc = documents[row["doc_id"]]
        row["topic"] = f"{doc.nation}-tag-{slug}"
        members[row["topic"]].append(slug)
    for topic_id, slugs in sorted(members.items()):
        words = slugs[0].split("-")
        topics[topic_id] = {
            "nation": topic_id.split("-", 1)[0],
            "keywords": words,
            "label": " ".join(words),
            "size": len(slugs),
            "method": {"reducer": "none", "clusterer": "llm-tag"},
        }
    write_jsonl(ctx.out / "assignments.jsonl", assignments)
    write_json(ctx.out / "topics.json", topics)
    ctx.output.counts.update(
        outliers=len(outliers),
        tagged=sum(len(v) for v in members.values()),
        tag_topics=len(members),
        topics=len(topics),
    )
    ctx.progress(len(outliers), len(outliers))
