"""PAA's verdicts: each judge's W / L / TIE from its three scores, and the panel's.

Each judge scores the model's answer, `answer_w` and `answer_l` on 0-100 for how well they fit
the user's preferences. The thresholds are the publisher's defaults (margin 20, slack 3,
L margin 8, majority 2). The publisher's per-judge rule can also turn a judge's flagged hard
violation into its own L (`force_l_on_hard_violation`, on in its re-labelling scripts and off
in its judging scripts); here it is off unless asked for, and the panel-level veto below
always applies.

A judge whose output cannot be parsed abstains (`None` in a panel). The publisher's scripts
read such an output as three zero scores, which its rule turns into a silent TIE; here the
abstention is counted instead, and the panel follows the publisher's aggregation, which knows
ABSTAIN: W or L still need two votes among the judges that did score; without a majority the
item is ABSTAIN when at least two judges abstained, else TIE. PAA is the share of W over all
items, abstained ones included (the publisher's summary divides by every item too). A panel
of one judge needs its one vote (the majority is at most the panel's size).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

MARGIN: Final = 20
SLACK: Final = 3
MARGIN_L: Final = 8
MAJORITY: Final = 2


class Verdict(StrEnum):
    W = "W"
    L = "L"
    TIE = "TIE"
    #: too few judges gave a usable output to decide
    ABSTAIN = "ABSTAIN"


@dataclass(frozen=True)
class JudgeScores:
    judge: str
    model: int
    winner: int
    loser: int
    #: the judge flagged a hard violation of the user's preferences in the model's answer
    hard_violation: bool = False

    def __post_init__(self) -> None:
        for name in ("model", "winner", "loser"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                raise ValueError(f"judge {self.judge}: score {name} must be an integer 0-100")


def judge_verdict(scores: JudgeScores, *, force_l_on_hard_violation: bool = False) -> Verdict:
    """W when the model's answer beats answer_l clearly and is about as good as answer_w;
    L when it falls clearly below answer_w; TIE otherwise."""
    if force_l_on_hard_violation and scores.hard_violation:
        return Verdict.L
    if scores.model >= scores.loser + MARGIN and scores.model >= scores.winner - SLACK:
        return Verdict.W
    if scores.model <= scores.winner - MARGIN_L:
        return Verdict.L
    return Verdict.TIE


def panel_verdict(
    panel: Sequence[JudgeScores | None], *, force_l_on_hard_violation: bool = False
) -> Verdict:
    """W if at least two judges say W, L if at least two say L; a W majority with any L vote
    becomes L when some judge flagged a hard violation. Otherwise ABSTAIN when at least two
    judges abstained (`None`: unparsable output), else TIE."""
    if not panel:
        raise ValueError("a panel needs at least one judge")
    needed = min(MAJORITY, len(panel))
    scored = [s for s in panel if s is not None]
    votes = Counter(
        judge_verdict(s, force_l_on_hard_violation=force_l_on_hard_violation) for s in scored
    )
    if votes[Verdict.W] >= needed:
        if votes[Verdict.L] and any(s.hard_violation for s in scored):
            return Verdict.L
        return Verdict.W
    if votes[Verdict.L] >= needed:
        return Verdict.L
    if len(panel) - len(scored) >= needed:
        return Verdict.ABSTAIN
    return Verdict.TIE


def shares(verdicts: Sequence[Verdict]) -> dict[Verdict, float]:
    """The share of each verdict over all items; PAA is the share of W."""
    if not verdicts:
        raise ValueError("no verdicts")
    counts = Counter(verdicts)
    return {v: counts[v] / len(verdicts) for v in Verdict}
