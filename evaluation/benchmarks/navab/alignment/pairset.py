"""One nation's pairs, split by topic into training pairs and held-out items, and their files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.alignment.cli import HELDOUT_DIR, TRAIN_PAIRS_FILE
from evaluation.benchmarks.navab.alignment.pairs import (
    DPOPair,
    build_pairs,
    pair_counts,
    select_records,
    write_pairs,
)
from evaluation.benchmarks.navab.alignment.source import PairSource
from evaluation.benchmarks.navab.alignment.split import Split, split_by_topic, write_heldout_release
from evaluation.benchmarks.navab.records import TripleRecord

TEST_PAIRS_FILE = "test_pairs.jsonl"
SPLIT_FILE = "split.json"


@dataclass(frozen=True)
class PairSet:
    source: PairSource
    nation: str
    modes: tuple[str, ...]
    split: Split
    train: list[DPOPair]
    #: held-out items as a release subset, and as pairs (to measure margins on them)
    heldout: list[TripleRecord]
    test: list[DPOPair]

    def summary(self) -> dict[str, Any]:
        return {
            "source": {"kind": self.source.kind, "path": str(self.source.path)},
            "release_version": self.source.version,
            "nation": self.nation,
            "modes": list(self.modes),
            "train_pairs": pair_counts(self.train),
            "test_pairs": pair_counts(self.test),
        }


def prepare_pairs(
    source: PairSource,
    nation: str,
    modes: Sequence[str] | None = None,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> PairSet:
    training = select_records(source.training, nation, modes)
    used = tuple(modes) if modes else tuple(sorted({r.mode for r in training}))
    split = split_by_topic(training, test_fraction=test_fraction, seed=seed)
    evaluation = [r for r in source.evaluation if r.nation == nation and r.mode in used]
    heldout = [r for r in evaluation if split.is_test(r)]
    return PairSet(
        source=source,
        nation=nation,
        modes=used,
        split=split,
        train=build_pairs(r for r in training if not split.is_test(r)),
        heldout=heldout,
        test=build_pairs(heldout),
    )


def write_pair_set(pair_set: PairSet, out_dir: Path) -> Path:
    """Write the pairs, the split and the held-out release under `out_dir`; returns the release."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_pairs(out_dir / TRAIN_PAIRS_FILE, pair_set.train)
    write_pairs(out_dir / TEST_PAIRS_FILE, pair_set.test)
    split_info = {**pair_set.summary(), "split": pair_set.split.to_dict()}
    (out_dir / SPLIT_FILE).write_text(json.dumps(split_info, indent=2, ensure_ascii=False) + "\n")
    version = f"{pair_set.source.version}-heldout-{pair_set.nation}-seed{pair_set.split.seed}"
    metadata = {
        "version": version,
        "status": "draft",
        "source": "alignment-heldout",
        "parent_release": pair_set.source.version,
        "pair_source": pair_set.source.kind,
        "nation": pair_set.nation,
        "modes": list(pair_set.modes),
    }
    heldout_dir = out_dir / HELDOUT_DIR
    write_heldout_release(heldout_dir, pair_set.heldout, pair_set.split, metadata)
    return heldout_dir
