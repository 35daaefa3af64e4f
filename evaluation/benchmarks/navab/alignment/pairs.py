"""DPO preference pairs from NaVAB triples: prompt from Q, chosen = S, rejected = RS.

The prompt is the harness's free-answer prompt (`answer_prompt` in NaVAB's prompts), so the
model is trained in the same framing in which the AJ method asks it to answer. Completions
carry a leading space: the prompt ends with "Answer:", and trl tokenizes prompt + completion as
one text, so the space keeps the prompt/completion boundary on a token boundary.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from evaluation.benchmarks.navab.prompts import answer_prompt
from evaluation.benchmarks.navab.records import TripleRecord


@dataclass(frozen=True, slots=True)
class DPOPair:
    uid: str
    nation: str
    mode: str
    topic: str
    prompt: str
    chosen: str
    rejected: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def pair_from_triple(record: TripleRecord) -> DPOPair:
    return DPOPair(
        uid=record.uid,
        nation=record.nation,
        mode=record.mode,
        topic=record.topic,
        prompt=answer_prompt(record.question),
        chosen=f" {record.statement.strip()}",
        rejected=f" {record.reverse_statement.strip()}",
    )


def build_pairs(records: Iterable[TripleRecord]) -> list[DPOPair]:
    return [pair_from_triple(r) for r in records]


def select_records(
    records: Iterable[TripleRecord], nation: str, modes: Sequence[str] | None = None
) -> list[TripleRecord]:
    """The triples of one nation in the given modes (default: every mode the records hold).
    Nations and modes are checked against the records, never against a fixed list."""
    records = list(records)
    nations = sorted({r.nation for r in records})
    if nation not in nations:
        raise ValueError(f"unknown nation {nation!r}; the data holds {', '.join(nations)}")
    held = sorted({r.mode for r in records if r.nation == nation})
    if modes is not None:
        unknown = sorted(set(modes) - set(held))
        if unknown or not modes:
            raise ValueError(
                f"modes must be among {', '.join(held)} for {nation}, "
                f"got {', '.join(modes) or 'none'}"
            )
    chosen = set(held if modes is None else modes)
    return [r for r in records if r.nation == nation and r.mode in chosen]


def pair_counts(pairs: Iterable[DPOPair]) -> dict[str, int]:
    """Pairs per nation/mode, keyed like a release manifest's counts."""
    return dict(sorted(Counter(f"{p.nation}/{p.mode}" for p in pairs).items()))


def write_pairs(path: Path, pairs: Iterable[DPOPair]) -> int:
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count
