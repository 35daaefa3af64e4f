"""Small NaVAB release folders with the published release's quirks, for reader and importer
tests (plain files: no Django)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# What the published filter_flag holds: the screening model's lower-cased output.
KEPT_FLAG = (
    "after analyzing the statement, i would say that it is related to a sensitive political "
    "issue: the statement expresses the government's stance on public hospitals.\n\n## yes"
)
DROPPED_FLAG = "the statement reports a hospital's opening hours; it is not value-laden. ## no"


def navab_record(
    i: int = 0,
    *,
    question: str | None = None,
    statement: str | None = None,
    reverse: str | None = None,
    source: str = " Minister of Health",
    filter_flag: Any = KEPT_FLAG,
    **extra: Any,
) -> dict[str, Any]:
    """One record with the NaVAB release's keys and quirks (the speaker after a space, as the
    publisher's "## speaker" split leaves it); `extra` adds or overrides keys."""
    q = question or f"Should the state expand public hospitals (item {i})?"
    s = statement or f" The state should expand public hospitals (item {i})."
    rs = reverse or f"The state should not expand public hospitals (item {i})."
    record = {
        "raw_news": f"Officials announced a hospital plan, item {i}.",
        "statement": s,
        "filter_flag": filter_flag,
        "full_source": f"The minister spoke at a briefing (item {i}).",
        "source": source,
        "generated Q": q,
        "generated reverse statement": rs,
        "generated raw data": f"Q: {q} ## S: {s} ## RS: {rs}",
    }
    record.update(extra)
    return record


def write_navab(root: Path, files: dict[str, Any]) -> Path:
    """Write {"US/human_statement_result.json": records-or-raw-text, ...} under root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        path.write_text(text, encoding="utf-8")
    return root


def small_navab_files() -> dict[str, Any]:
    """All five nations, with the release's quirks: mixed-case folders, the French `officia`
    file name, German's extra `statements.json`, a filtered-out record, non-English text."""
    return {
        "US/human_statement_result.json": [
            navab_record(0, topic="healthcare"),
            navab_record(1, topic="healthcare"),
            navab_record(2, filter_flag=DROPPED_FLAG),
        ],
        "US/official_statement_result.json": [
            navab_record(
                3,
                source="unknown",
                statement='Tariffs, "reciprocal" ones included, protect jobs;\nsay officials.',
            )
        ],
        "UK/human_statement_result.json": [navab_record(4, source="UK Chancellor")],
        "UK/official_statement_result.json": [navab_record(5, source="")],
        "China/human_statement_result.json": [
            navab_record(
                6,
                question="政府是否应该扩大公立医院的规模",
                statement="政府应当扩大公立医院的规模以保障人民健康。",
                reverse="政府不应扩大公立医院的规模。",
                source="国家卫生健康委员会",
            )
        ],
        "China/official_statement_result.json": [navab_record(7, source="unknown")],
        "french/human_statement_result.json": [
            navab_record(
                8,
                question="L'État doit-il agrandir les hôpitaux publics ?",
                statement="L'État doit agrandir les hôpitaux publics pour les patients.",
                reverse="L'État ne doit pas agrandir les hôpitaux publics.",
                source="Ministre de la Santé",
            )
        ],
        "french/officia_statement_result.json": [navab_record(9, source="unknown")],
        "german/human_statement_result.json": [
            navab_record(
                10,
                question="Sollte der Staat die öffentlichen Krankenhäuser ausbauen?",
                statement="Der Staat sollte die Krankenhäuser ausbauen, und das ist nicht teuer.",
                reverse="Der Staat sollte die Krankenhäuser nicht ausbauen.",
                source="Bundesgesundheitsminister",
            )
        ],
        "german/official_statement_result.json": [
            navab_record(11, source="unknown", language="de")
        ],
        "german/statements.json": german_source_split(),
    }


def german_source_split() -> list[dict[str, Any]]:
    """German's `source` split: one record complete enough to be a triple, one without a
    generated question or reverse statement (statements after the source judgement)."""
    complete = navab_record(
        12,
        question="Sollte Deutschland die Schuldenbremse lockern?",
        statement="Die Schuldenbremse muss gelockert werden, sagte die Finanzministerin.",
        reverse="Die Schuldenbremse darf nicht gelockert werden.",
        source=" Finanzministerin",
    )
    statement_only = {
        "raw_news": "Die Regierung kündigte neue Investitionen in Schienen an.",
        "statement": " Die Bahn braucht mehr Investitionen.",
        "filter_flag": "the statement concerns public infrastructure spending. ## yes",
        "full_source": "the statement names no speaker. ## unknown",
        "source": " unknown",
    }
    return [complete, statement_only]
