"""NaVAB's release records: one triple (question, statement, reverse statement) per line of
`triples.jsonl` in a release directory (`evaluation.release`), keys as in `TripleRecord`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from evaluation.release import write_items

TRIPLES_FILE = "triples.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True, slots=True)
class TripleRecord:
    uid: str
    nation: str
    mode: str
    question: str
    statement: str
    reverse_statement: str
    speaker: str = ""
    topic: str = ""
    language: str = "en"
    news_excerpt: str = ""
    release: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TripleRecord:
        known = {f.name for f in fields(cls)}
        missing = [
            n
            for n in ("uid", "nation", "mode", "question", "statement", "reverse_statement")
            if not data.get(n)
        ]
        if missing:
            raise ValueError(f"missing required field(s): {', '.join(missing)}")
        return cls(**{k: ("" if v is None else str(v)) for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TripleRecord))


def triple_uid(nation: str, mode: str, question: str, statement: str) -> str:
    """A content hash, so the same triple keeps its uid across re-imports, runs and releases."""
    payload = "\x1f".join([nation, mode, question.strip(), statement.strip()])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def iter_triples(release_dir: Path) -> Iterator[TripleRecord]:
    path = Path(release_dir) / TRIPLES_FILE
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield TripleRecord.from_dict(json.loads(line))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{line_no}: {exc}") from exc


def _nation_mode(item: Mapping[str, Any]) -> str:
    return f"{item['nation']}/{item['mode']}"


def write_release(
    release_dir: Path, records: Iterable[TripleRecord], metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write NaVAB's triples.jsonl and manifest.json; returns the manifest."""
    items = (record.to_dict() for record in records)
    return write_items(release_dir, TRIPLES_FILE, items, _nation_mode, metadata)
