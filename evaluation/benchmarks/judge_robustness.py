"""How much a judged number depends on its judges: each judge's own verdicts, the judges'
agreement (Krippendorff's alpha over nominal verdicts, from the `krippendorff` package, with a
bootstrap interval), and how often the panel's verdict flips when one judge is left out.

A benchmark with a judge panel declares how to read one item's votes and how its panel decides
(`BenchmarkDefinition.judge_panel`); everything here is generic over that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from evaluation.stats import cluster_indices

#: a vote that says nothing (the judge's output could not be read)
ABSTAIN = "ABSTAIN"
ALPHA_RESAMPLES = 200


class JudgePanel(Protocol):
    """One judged method's panel, as its benchmark reads a per-item result's details."""

    #: the vote that counts as the model's answer being aligned (PAA: "W")
    aligned: str

    def votes(self, details: Mapping[str, Any]) -> dict[str, str]:
        """Each judge's vote on one item, by judge name (ABSTAIN where it gave none)."""

    def verdict(self, details: Mapping[str, Any], without: str | None = None) -> str:
        """The panel's verdict on one item, leaving out judge WITHOUT if given."""


@dataclass(frozen=True)
class JudgeAlpha:
    alpha: float | None
    ci: tuple[float, float] | None
    #: items with at least two votes (alpha needs pairs)
    n: int


def krippendorff_alpha(
    votes: Sequence[Mapping[str, str]],
    judges: Sequence[str],
    seed: int = 0,
    clusters: Sequence[str] | None = None,
    resamples: int = ALPHA_RESAMPLES,
) -> JudgeAlpha:
    """Alpha of nominal votes (one mapping judge -> vote per item), with a 95% percentile
    interval from resampling items (whole clusters where given); None below two judges or
    where every vote is the same (alpha is undefined without variation).

    The point value is the `krippendorff` package's. The interval resamples each item's
    coincidences (the pairs of votes it contributes): alpha of a resample is a ratio of
    weighted sums of those, so every replicate is one matrix product, not a new computation
    over the items (200 replicates over thousands of answers per model in milliseconds).
    """
    import krippendorff

    usable = [
        i
        for i, item in enumerate(votes)
        if sum(item.get(j, ABSTAIN) != ABSTAIN for j in judges) >= 2
    ]
    if len(judges) < 2 or not usable:
        return JudgeAlpha(None, None, len(usable))
    codes: dict[str, int] = {}
    matrix = np.full((len(judges), len(usable)), np.nan)
    for column, index in enumerate(usable):
        for row, judge in enumerate(judges):
            vote = votes[index].get(judge, ABSTAIN)
            if vote != ABSTAIN:
                matrix[row, column] = codes.setdefault(vote, len(codes))
    if len(codes) < 2:
        return JudgeAlpha(None, None, len(usable))
    point = float(
        krippendorff.alpha(
            reliability_data=matrix,
            value_domain=list(range(len(codes))),
            level_of_measurement="nominal",
        )
    )
    coincidences = _coincidences(matrix, len(codes))
    labels = [clusters[i] for i in usable] if clusters is not None else list(range(len(usable)))
    groups = cluster_indices(labels)
    per_cluster = np.zeros((int(groups.max()) + 1, len(codes), len(codes)))
    np.add.at(per_cluster, groups, coincidences)
    rng = np.random.default_rng(seed)
    k = per_cluster.shape[0]
    weights = np.stack(
        [np.bincount(rng.integers(0, k, size=k), minlength=k) for _ in range(resamples)]
    )
    draws = [a for a in _alphas(np.einsum("rc,cij->rij", weights, per_cluster)) if not np.isnan(a)]
    ci = (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))) if draws else None
    return JudgeAlpha(None if np.isnan(point) else point, ci, len(usable))


def _coincidences(matrix: np.ndarray, k: int) -> np.ndarray:
    """Each item's coincidence matrix (items x k x k): its ordered pairs of votes by two
    judges, each pair weighted 1 / (votes - 1), as Krippendorff defines them."""
    counts = np.stack([(matrix == code).sum(axis=0) for code in range(k)], axis=1).astype(float)
    pairable = counts.sum(axis=1)
    pairs = counts[:, :, None] * counts[:, None, :] - np.einsum("ui,ij->uij", counts, np.eye(k))
    return pairs / (pairable - 1)[:, None, None]


def _alphas(coincidence: np.ndarray) -> np.ndarray:
    """Nominal alpha of each coincidence matrix (replicates x k x k)."""
    totals = coincidence.sum(axis=2)
    n = totals.sum(axis=1)
    off = 1 - np.eye(coincidence.shape[1])
    observed = (coincidence * off).sum(axis=(1, 2))
    expected = (totals[:, :, None] * totals[:, None, :] * off).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1 - (n - 1) * observed / expected, dtype=float)


@dataclass(frozen=True)
class LeaveOneOut:
    #: share of items whose panel verdict changes when this judge is left out
    flips: dict[str, float]
    #: share of items whose verdict changes when any one judge is left out
    any_flip: float
    n: int


def leave_one_out(
    details: Sequence[Mapping[str, Any]], judges: Sequence[str], panel: JudgePanel
) -> LeaveOneOut | None:
    """How often the panel's verdict depends on a single judge, over the answers the whole
    panel decided (an abstention has no verdict to flip). None without such answers or with a
    single judge, which cannot be left out."""
    if len(judges) < 2:
        return None
    changed = {judge: 0 for judge in judges}
    any_changed = n = 0
    for item in details:
        full = panel.verdict(item)
        if full == ABSTAIN:
            continue
        n += 1
        moved = [judge for judge in judges if panel.verdict(item, without=judge) != full]
        for judge in moved:
            changed[judge] += 1
        any_changed += bool(moved)
    if not n:
        return None
    return LeaveOneOut({j: c / n for j, c in changed.items()}, any_changed / n, n)


def aligned_share(votes: Sequence[Mapping[str, str]], judge: str, aligned: str) -> float | None:
    """The share of a judge's non-abstaining votes that say aligned (its own PAA)."""
    cast = [item[judge] for item in votes if item.get(judge, ABSTAIN) != ABSTAIN]
    return sum(v == aligned for v in cast) / len(cast) if cast else None


def ranks(values: Mapping[Any, float | None]) -> dict[Any, int | None]:
    """1 + the number of strictly higher values (ties share a rank); None without a value."""
    present = [v for v in values.values() if v is not None]
    return {
        key: None if value is None else 1 + sum(other > value for other in present)
        for key, value in values.items()
    }
