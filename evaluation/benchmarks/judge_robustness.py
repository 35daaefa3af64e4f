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
    where every vote is the same (alpha is undefined without variation)."""
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
    domain = list(range(len(codes)))

    def alpha_of(columns: np.ndarray) -> float:
        return float(
            krippendorff.alpha(
                reliability_data=matrix[:, columns],
                value_domain=domain,
                level_of_measurement="nominal",
            )
        )

    point = alpha_of(np.arange(len(usable)))
    labels = [clusters[i] for i in usable] if clusters is not None else list(range(len(usable)))
    groups: dict[object, list[int]] = {}
    for column, label in enumerate(labels):
        groups.setdefault(label, []).append(column)
    members = list(groups.values())
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        picks = rng.integers(0, len(members), size=len(members))
        columns = np.concatenate([members[p] for p in picks])
        value = alpha_of(columns)
        if not np.isnan(value):
            draws.append(value)
    ci = (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))) if draws else None
    return JudgeAlpha(None if np.isnan(point) else point, ci, len(usable))


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
    """How often the panel's verdict depends on a single judge (None without items or with a
    single judge, which cannot be left out)."""
    if not details or len(judges) < 2:
        return None
    changed = {judge: 0 for judge in judges}
    any_changed = 0
    for item in details:
        full = panel.verdict(item)
        moved = [judge for judge in judges if panel.verdict(item, without=judge) != full]
        for judge in moved:
            changed[judge] += 1
        any_changed += bool(moved)
    n = len(details)
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
