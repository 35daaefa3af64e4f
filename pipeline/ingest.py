"""Stage 1: read news corpora (JSONL or CSV) and validate every record.

Each record needs nation (cn|us|uk|fr|de), outlet, date (YYYY-MM-DD), language (a BCP-47-ish
code such as "en" or "zh-CN"), title and text; extra fields are ignored. A bad record never stops
the run and is never skipped silently: it becomes an `IngestError` naming file, line and reason,
written to `rejected.jsonl` and counted. Exact duplicates (same nation, outlet, date, title, text)
are kept once and counted.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from evaluation.benchmarks.navab import NATIONS as KNOWN_NATIONS
from pipeline.checkpoint import read_jsonl, write_jsonl
from pipeline.context import StageContext

# The nations whose news the pipeline knows how to screen (NaVAB's definition holds the list).
NATION_CODES = tuple(n.code for n in KNOWN_NATIONS)

FIELDS = ("nation", "outlet", "date", "language", "title", "text")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Document:
    doc_id: str
    nation: str
    outlet: str
    date: str
    language: str
    title: str
    text: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class IngestError:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def doc_id(nation: str, outlet: str, day: str, title: str, text: str) -> str:
    payload = "\x1f".join([nation, outlet, day, title, text])
    return f"{nation}-{hashlib.sha256(payload.encode('utf-8')).hexdigest()[:12]}"


def validate_record(raw: Any) -> tuple[dict[str, str] | None, str]:
    """Return (clean record, "") or (None, reason)."""
    if not isinstance(raw, dict):
        return None, f"record must be an object, got {type(raw).__name__}"
    missing = [f for f in FIELDS if f not in raw]
    if missing:
        return None, f"missing field(s): {', '.join(missing)}"
    record: dict[str, str] = {}
    for name in FIELDS:
        value = raw[name]
        if not isinstance(value, str):
            return None, f"field {name!r} must be a string, got {type(value).__name__}"
        record[name] = value.strip()
    empty = [f for f in FIELDS if not record[f]]
    if empty:
        return None, f"empty field(s): {', '.join(empty)}"
    record["nation"] = record["nation"].lower()
    if record["nation"] not in NATION_CODES:
        return None, (
            f"unknown nation {record['nation']!r} (expected one of {', '.join(NATION_CODES)})"
        )
    if not DATE.match(record["date"]):
        return None, f"date {record['date']!r} is not YYYY-MM-DD"
    try:
        date.fromisoformat(record["date"])
    except ValueError:
        return None, f"date {record['date']!r} is not a calendar date"
    if not LANGUAGE.match(record["language"]):
        return None, f"language {record['language']!r} is not a language code such as 'en'"
    return record, ""


def _raw_records(path: Path) -> Iterator[tuple[int, Any, str]]:
    """Yield (line, parsed record or None, parse error) for each record of a corpus file."""
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield line_no, json.loads(line), ""
                except json.JSONDecodeError as exc:
                    yield line_no, None, f"invalid JSON: {exc.msg} (column {exc.colno})"
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            absent = [f for f in FIELDS if f not in (reader.fieldnames or [])]
            if absent:
                yield 1, None, f"CSV header lacks column(s): {', '.join(absent)}"
                return
            for row in reader:
                # reader.line_num is the physical line where the row ended (rows may span lines).
                if None in row:
                    yield reader.line_num, None, "more values than header columns"
                else:
                    yield reader.line_num, row, ""
    else:
        yield 0, None, "unsupported file type (expected .jsonl or .csv)"


def load_corpus(paths: tuple[Path, ...]) -> tuple[list[Document], list[IngestError], int]:
    """Read and validate corpora; returns (documents, errors, number of duplicates dropped)."""
    documents: list[Document] = []
    errors: list[IngestError] = []
    seen: set[str] = set()
    duplicates = 0
    for path in paths:
        if not path.is_file():
            errors.append(IngestError(str(path), 0, "file not found"))
            continue
        for line_no, raw, parse_error in _raw_records(path):
            record, reason = (None, parse_error) if parse_error else validate_record(raw)
            if record is None:
                errors.append(IngestError(str(path), line_no, reason))
                continue
            key = doc_id(*(record[f] for f in ("nation", "outlet", "date", "title", "text")))
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            documents.append(Document(doc_id=key, source=f"{path.name}:{line_no}", **record))
    return documents, errors, duplicates


def run(ctx: StageContext) -> None:
    documents, errors, duplicates = load_corpus(ctx.config.inputs)
    if not documents:
        detail = "; ".join(str(e) for e in errors[:5])
        raise ValueError(f"no valid news records in the inputs ({len(errors)} rejected): {detail}")
    write_jsonl(ctx.out / "documents.jsonl", (d.to_dict() for d in documents))
    write_jsonl(ctx.out / "rejected.jsonl", (asdict(e) for e in errors))
    ctx.output.counts["documents"] = len(documents)
    for nation in NATION_CODES:
        n = sum(1 for d in documents if d.nation == nation)
        if n:
            ctx.output.counts[f"documents_{nation}"] = n
    ctx.output.drop("invalid_record", len(errors))
    ctx.output.drop("duplicate", duplicates)
    ctx.progress(len(documents), len(documents))


def read_documents(stage_dir: Path) -> list[Document]:
    return [Document(**row) for row in read_jsonl(stage_dir / "documents.jsonl")]
