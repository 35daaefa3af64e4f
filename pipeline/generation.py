"""Stage 7 (LLM): turn each statement into a <Q, S, RS> triple, parsed strictly.

The model must answer exactly "Q: <question> ## S: <statement> ## RS: <reverse statement>".
Anything else is dropped and counted under one reason:
- unparsable: not that shape (missing a marker, extra "##", text before "Q:");
- empty_field: a marker with nothing after it;
- same_statement: S and RS are the same text (case and spacing ignored), so no contrast;
- duplicate: a triple with the same uid (nation, mode, question, statement) already exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evaluation.benchmarks.navab.records import triple_uid
from pipeline.checkpoint import read_jsonl, write_jsonl
from pipeline.context import StageContext
from pipeline.prompts import TRIPLE_GENERATION

TRIPLE = re.compile(r"Q:(?P<q>.*?)##\s*S:(?P<s>.*?)##\s*RS:(?P<rs>.*)", re.DOTALL)


@dataclass(frozen=True)
class ParsedTriple:
    question: str
    statement: str
    reverse_statement: str


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def parse_triple(answer: str) -> tuple[ParsedTriple | None, str]:
    """(triple, "") or (None, drop reason)."""
    match = TRIPLE.fullmatch(answer.strip())
    if match is None or answer.count("##") != 2:
        return None, "unparsable"
    question, statement, reverse = (match.group(k).strip() for k in ("q", "s", "rs"))
    if not (question and statement and reverse):
        return None, "empty_field"
    if _normalise(statement) == _normalise(reverse):
        return None, "same_statement"
    return ParsedTriple(question, statement, reverse), ""


def run(ctx: StageContext) -> None:
    statements = list(read_jsonl(ctx.input_dir("extraction") / "statements.jsonl"))
    answers = ctx.generate([TRIPLE_GENERATION.format(statement=s["text"]) for s in statements])
    triples: list[dict[str, Any]] = []
    seen: set[str] = set()
    for statement, answer in zip(statements, answers, strict=True):
        parsed, reason = parse_triple(answer)
        if parsed is None:
            ctx.output.drop(reason)
            continue
        uid = triple_uid(statement["nation"], statement["mode"], parsed.question, parsed.statement)
        if uid in seen:
            ctx.output.drop("duplicate")
            continue
        seen.add(uid)
        triples.append(
            {
                "uid": uid,
                "question": parsed.question,
                "statement": parsed.statement,
                "reverse_statement": parsed.reverse_statement,
                **{k: statement[k] for k in ("statement_id", "doc_id", "nation", "mode")},
                **{k: statement[k] for k in ("speaker", "topic_id", "topic", "language")},
                **{k: statement[k] for k in ("news_excerpt", "stance")},
            }
        )
    write_jsonl(ctx.out / "triples.jsonl", triples)
    ctx.output.counts.update(statements=len(statements), triples=len(triples))
