"""NaVAB's alignment plan: toward one nation, on its triples outside whole held-out topics.

The split is `evaluation.alignment`'s topic split (items on one topic paraphrase each other, so
topics, not items, are held out). Both models are then scored on the release without the
training items: the nation's held-out topics and every other nation in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluation.benchmarks.contract import AlignmentPlan
from evaluation.benchmarks.navab.alignment.pairs import pair_counts
from evaluation.benchmarks.navab.alignment.pairset import prepare_pairs
from evaluation.benchmarks.navab.alignment.source import PairSource
from evaluation.benchmarks.navab.records import TripleRecord


def plan_alignment(
    training: Sequence[Mapping[str, Any]],
    evaluation: Sequence[Mapping[str, Any]],
    nation: str,
    modes: Sequence[str] | None,
    *,
    test_fraction: float,
    seed: int,
) -> AlignmentPlan:
    train_records = [TripleRecord.from_dict(dict(item)) for item in training]
    eval_records = [TripleRecord.from_dict(dict(item)) for item in evaluation]
    source = PairSource("release", Path(), "", train_records, eval_records)
    pair_set = prepare_pairs(source, nation, modes, test_fraction=test_fraction, seed=seed)
    split = pair_set.split.to_dict()
    trained = set(split["train"]["uids"])
    excluded = tuple(split["train"]["uids"])

    def topics(side: str) -> str:
        names = ", ".join(split[side]["topics"]) or "—"
        return f"{names} ({len(split[side]['uids'])} items)"

    return AlignmentPlan(
        train=tuple(r.to_dict() for r in train_records if r.uid in trained),
        exclude_uids=excluded,
        evaluate_uids=tuple(r.uid for r in eval_records if r.uid not in trained),
        counts=pair_counts(pair_set.train),
        summary=(("Held-out topics", topics("test")), ("Trained topics", topics("train"))),
        split=split,
    )
