"""The release directory: the one on-disk format shared by the site, the harness and the pipeline.

A release directory holds `triples.jsonl` (one record per line, keys as in `TripleRecord`) and
`manifest.json` (version, counts per nation/mode, sha256 and size of every file). The site
writes it on export, the pipeline writes it as its output, and the harness reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

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


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


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


def load_manifest(release_dir: Path) -> dict[str, Any]:
    path = Path(release_dir) / MANIFEST_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_release(
    release_dir: Path, records: Iterable[TripleRecord], metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write triples.jsonl and manifest.json; returns the manifest."""
    release_dir = Path(release_dir)
    release_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    triples_path = release_dir / TRIPLES_FILE
    with triples_path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            counts[f"{record.nation}/{record.mode}"] += 1
    manifest: dict[str, Any] = dict(metadata or {})
    manifest["counts"] = dict(sorted(counts.items()))
    manifest["total"] = sum(counts.values())
    manifest["files"] = {
        TRIPLES_FILE: {"sha256": sha256_file(triples_path), "bytes": triples_path.stat().st_size}
    }
    (release_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
