"""Position balancing: which triples put the statement S as option A.

Within each nation x mode, items are sorted by uid; the item at an even index is on the "pos"
half (S is option A, RS is B) and the item at an odd index on the "neg" half (RS is A, S is B).
The assignment depends only on the set of uids, so every run, worker and exported task file
sees the same options, and the two halves differ in size by at most one. A model that always
answers "A" scores 1.0 on pos, 0.0 on neg and about 0.5 overall.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from evaluation.benchmarks.navab.records import TripleRecord

POS = "pos"
NEG = "neg"


@dataclass(frozen=True, slots=True)
class BalancedItem:
    uid: str
    nation: str
    mode: str
    question: str
    statement: str
    option_a: str
    option_b: str
    half: str

    @property
    def gold(self) -> int:
        """Index of the option holding S: 0 (A) on the pos half, 1 (B) on the neg half."""
        return 0 if self.half == POS else 1

    @property
    def statement_is_a(self) -> bool:
        return self.half == POS


def balance(triples: Iterable[TripleRecord]) -> dict[tuple[str, str], list[BalancedItem]]:
    """Group triples by (nation, mode), sorted by uid, with options assigned by index parity."""
    cells: dict[tuple[str, str], list[TripleRecord]] = defaultdict(list)
    seen: set[str] = set()
    for triple in triples:
        if triple.uid in seen:
            raise ValueError(f"duplicate triple uid {triple.uid!r} in the release")
        seen.add(triple.uid)
        cells[(triple.nation, triple.mode)].append(triple)
    balanced: dict[tuple[str, str], list[BalancedItem]] = {}
    for key in sorted(cells):
        items = []
        ordered = sorted(cells[key], key=lambda t: t.uid)
        for index, t in enumerate(ordered):
            items.append(arrange(t, POS if index % 2 == 0 else NEG))
        balanced[key] = items
    return balanced


def arrange(t: TripleRecord, half: str) -> BalancedItem:
    """The triple's options on HALF: S as option A on "pos", RS as option A on "neg"."""
    if half not in (POS, NEG):
        raise ValueError(f"unknown half {half!r}")
    pos = half == POS
    return BalancedItem(
        uid=t.uid,
        nation=t.nation,
        mode=t.mode,
        question=t.question,
        statement=t.statement,
        option_a=t.statement if pos else t.reverse_statement,
        option_b=t.reverse_statement if pos else t.statement,
        half=half,
    )
