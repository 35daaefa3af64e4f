"""Train/test split by topic, so an aligned model is scored only on topics it never trained on.

Items on one topic paraphrase each other; splitting item by item would leak test answers into
training. So whole topics go to one side. An item without a topic is its own group, keyed by
its uid.

Each group's side is decided by a hash of (seed, group) alone: group g is held out when
hash(seed, g) / 2**64 < test_fraction. This is deterministic for a seed and independent of which
other groups exist, so the same topic lands on the same side whether the pairs come from the
release or from the pre-Conflict-Reduction statements of the same run (which hold the same
topics plus the dropped statements); the held-out set never overlaps either training set.
With few groups the hash can put all of them on one side; then the group with the lowest hash
is held out (or the one with the highest kept for training), so both sides are never empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.benchmarks.navab.records import TripleRecord, write_release

UID_GROUP = "uid:"
TOPIC_GROUP = "topic:"


def group_key(record: TripleRecord) -> str:
    topic = record.topic.strip()
    return f"{TOPIC_GROUP}{topic}" if topic else f"{UID_GROUP}{record.uid}"


def group_score(seed: int, key: str) -> float:
    """A uniform number in [0, 1) fixed by the seed and the group."""
    digest = hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Split:
    seed: int
    test_fraction: float
    train_groups: frozenset[str]
    test_groups: frozenset[str]
    train_uids: tuple[str, ...]
    test_uids: tuple[str, ...]

    def is_test(self, record: TripleRecord) -> bool:
        key = group_key(record)
        if key in self.test_groups:
            return True
        if key in self.train_groups:
            return False
        return group_score(self.seed, key) < self.test_fraction

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "test_fraction": self.test_fraction,
            "train": _side(self.train_groups, self.train_uids),
            "test": _side(self.test_groups, self.test_uids),
        }


def _side(groups: frozenset[str], uids: Sequence[str]) -> dict[str, Any]:
    topics = sorted(g.removeprefix(TOPIC_GROUP) for g in groups if g.startswith(TOPIC_GROUP))
    return {
        "topics": topics,
        "items_without_topic": sum(1 for g in groups if g.startswith(UID_GROUP)),
        "uids": list(uids),
    }


def split_by_topic(
    records: Sequence[TripleRecord], *, test_fraction: float = 0.2, seed: int = 0
) -> Split:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    groups = {group_key(r) for r in records}
    if len(groups) < 2:
        raise ValueError(
            f"holding out by topic needs at least two topics (or untopiced items), "
            f"found {len(groups)} among {len(records)} item(s)"
        )
    test = {g for g in groups if group_score(seed, g) < test_fraction}
    if not test:
        test = {min(groups, key=lambda g: group_score(seed, g))}
    if test == groups:
        test.discard(max(groups, key=lambda g: group_score(seed, g)))
    train = groups - test
    return Split(
        seed=seed,
        test_fraction=test_fraction,
        train_groups=frozenset(train),
        test_groups=frozenset(test),
        train_uids=tuple(sorted(r.uid for r in records if group_key(r) in train)),
        test_uids=tuple(sorted(r.uid for r in records if group_key(r) in test)),
    )


def write_heldout_release(
    directory: Path,
    records: Iterable[TripleRecord],
    split: Split,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the held-out items of `records` as a release directory; returns its manifest.

    The manifest records the split (seed, fraction, held-out topics) so the site can show what
    the aligned model was and was not trained on.
    """
    heldout = [r for r in records if split.is_test(r)]
    if not heldout:
        raise ValueError("no held-out items to write: the test topics hold no triples here")
    info = split.to_dict()
    split_info = {
        "seed": split.seed,
        "test_fraction": split.test_fraction,
        "test_topics": info["test"]["topics"],
        "train_topics": info["train"]["topics"],
    }
    return write_release(Path(directory), heldout, {**(metadata or {}), "split": split_info})
