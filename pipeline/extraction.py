"""Stage 6 (LLM): statement extraction, statement screening, source judgement and stance.

For every document in an approved topic:
1. extraction: the LLM lists the article's statements on the topic, one "- " line each;
2. screening: each statement is kept only if the LLM says it expresses a value judgement;
3. source judgement: a named speaker makes it a `quoted` statement (speaker recorded), no
   speaker makes it the outlet's `official` position;
4. stance: whether the statement supports (+1) or opposes (-1) the main position discussed
   under its topic. Conflict reduction compares stances within one nation and topic, which is
   why the stance is asked relative to the topic and not to another statement.
Every reply of the wrong shape drops its item under a named reason; nothing is guessed.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.checkpoint import read_json, read_jsonl, write_jsonl
from pipeline.context import StageContext
from pipeline.ingest import Document, read_documents
from pipeline.prompts import (
    SOURCE_JUDGEMENT,
    STANCE,
    STATEMENT_EXTRACTION,
    STATEMENT_SCREENING,
    excerpt,
    parse_stance,
    parse_yes_no,
)

NEWS_EXCERPT_CHARS = 500
MAX_SPEAKER_CHARS = 80
MAX_SPEAKER_WORDS = 8
NO_SPEAKER = {"none", "unknown", "no one", "nobody", "n/a"}


def parse_statements(answer: str) -> list[str] | None:
    """The "- " lines of an extraction answer; [] for NONE; None if any line is off-format."""
    text = answer.strip()
    if text.rstrip(".").lower() == "none":
        return []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not all(line.startswith("- ") for line in lines):
        return None
    return [line[2:].strip() for line in lines]


def parse_speaker(answer: str) -> tuple[bool, str]:
    """(parsed, speaker); speaker "" means no named person (an official position)."""
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        return False, ""
    name = re.sub(r"^speaker:\s*", "", lines[0].strip(), flags=re.IGNORECASE).strip(" .\"'")
    if name.lower() in NO_SPEAKER:
        return True, ""
    if not name or len(name) > MAX_SPEAKER_CHARS or len(name.split()) > MAX_SPEAKER_WORDS:
        return False, ""
    return True, name


def _extract(
    ctx: StageContext, docs: list[tuple[Document, dict[str, Any]]]
) -> list[dict[str, Any]]:
    prompts = [
        STATEMENT_EXTRACTION.format(topic=topic["label"], title=doc.title, text=excerpt(doc.text))
        for doc, topic in docs
    ]
    statements: list[dict[str, Any]] = []
    for (doc, topic), answer in zip(docs, ctx.generate(prompts), strict=True):
        parsed = parse_statements(answer)
        if parsed is None:
            ctx.output.drop("extraction_unparsable")
            continue
        seen: set[str] = set()
        for text in parsed:
            if not text:
                ctx.output.drop("empty_statement")
            elif text in seen:
                ctx.output.drop("duplicate_statement")
            else:
                seen.add(text)
                statements.append(
                    {
                        "statement_id": f"{doc.doc_id}-{len(seen) - 1}",
                        "doc_id": doc.doc_id,
                        "nation": doc.nation,
                        "language": doc.language,
                        "topic_id": topic["id"],
                        "topic": topic["label"],
                        "text": text,
                        "news_excerpt": excerpt(doc.text, NEWS_EXCERPT_CHARS),
                    }
                )
    return statements


def run(ctx: StageContext) -> None:
    approved = set(read_json(ctx.input_dir("approval") / "approved.json")["approved"])
    topics: dict[str, dict[str, Any]] = read_json(ctx.input_dir("tags") / "topics.json")
    documents = {d.doc_id: d for d in read_documents(ctx.input_dir("ingest"))}
    docs = [
        (documents[row["doc_id"]], {"id": row["topic"], **topics[row["topic"]]})
        for row in read_jsonl(ctx.input_dir("tags") / "assignments.jsonl")
        if row["topic"] in approved
    ]
    ctx.output.counts["documents"] = len(docs)
    extracted = _extract(ctx, docs)
    ctx.output.counts["extracted"] = len(extracted)

    verdicts = ctx.generate([STATEMENT_SCREENING.format(statement=s["text"]) for s in extracted])
    screened = []
    for statement, answer in zip(extracted, verdicts, strict=True):
        keep = parse_yes_no(answer)
        if keep is None:
            ctx.output.drop("screening_unparsable")
        elif not keep:
            ctx.output.drop("screened_out")
        else:
            screened.append(statement)

    # Source and stance prompts go out as one batch: they are independent of each other.
    sources = [
        SOURCE_JUDGEMENT.format(text=excerpt(documents[s["doc_id"]].text), statement=s["text"])
        for s in screened
    ]
    stances = [STANCE.format(topic=s["topic"], statement=s["text"]) for s in screened]
    answers = ctx.generate(sources + stances)
    kept = []
    for statement, source_answer, stance_answer in zip(
        screened, answers[: len(screened)], answers[len(screened) :], strict=True
    ):
        parsed, speaker = parse_speaker(source_answer)
        stance = parse_stance(stance_answer)
        if not parsed:
            ctx.output.drop("source_unparsable")
        elif stance is None:
            ctx.output.drop("stance_unparsable")
        else:
            mode = "quoted" if speaker else "official"
            kept.append({**statement, "speaker": speaker, "mode": mode, "stance": stance})
    write_jsonl(ctx.out / "statements.jsonl", kept)
    ctx.output.counts["statements"] = len(kept)
    ctx.output.counts["quoted"] = sum(1 for s in kept if s["mode"] == "quoted")
    ctx.output.counts["official"] = len(kept) - ctx.output.counts["quoted"]
