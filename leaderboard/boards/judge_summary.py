"""The judges page in one line, for the board of a judged method: the judges' agreement
(Krippendorff's alpha and its interval), the share of answers one judge decides, and how many
models some judge alone would rank elsewhere; or why there is nothing to say.

It reads the judges page's own computation (`judge_robustness.judges_board`, built once per
board version and cached), so a board request never recomputes it and the two always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluation.benchmarks.contract import Method, Track
from leaderboard.boards.judge_robustness import ModelJudging, judges_board
from leaderboard.boards.queries import Board
from leaderboard.evals.slices import declaration


@dataclass(frozen=True)
class JudgeSummary:
    method: str
    #: several judges vote on every answer (False: one judge per run, nothing to compare)
    panel: bool
    judges: list[str] = field(default_factory=list)
    #: models with panel-judged answers
    models: int = 0
    alpha: float | None = None
    alpha_ci: tuple[float, float] | None = None
    #: answers with two readable votes, which alpha is computed over
    alpha_n: int = 0
    #: share of the answers the panel decided whose verdict changes without some one judge
    flip_share: float | None = None
    flip_n: int = 0
    #: models ranked both by the panel and by some judge alone (rank moves count among these)
    ranked: int = 0
    #: models some single judge alone would rank elsewhere than the panel does
    rank_moves: int = 0
    #: why a number above is missing ("" when all are there)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "panel": self.panel,
            "judges": self.judges,
            "models": self.models,
            "alpha": _round(self.alpha),
            "alpha_ci": [_round(v) for v in self.alpha_ci] if self.alpha_ci else None,
            "alpha_n": self.alpha_n,
            "flip_share": _round(self.flip_share),
            "flip_n": self.flip_n,
            "ranked": self.ranked,
            "rank_moves": self.rank_moves,
            "note": self.note,
        }


def _round(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None


def board_judging(board: Board) -> JudgeSummary | None:
    """The summary of BOARD's method; None where the method is not judged."""
    method = board.method
    if method is None or method.track is not Track.JUDGED:
        return None
    release = board.query.release
    found = judges_board(release, declaration(release), method)
    if found is None:
        return JudgeSummary(
            method=method.key,
            panel=False,
            judges=board.judges,
            note=f"{method.label} has one judge per run: there is no agreement between judges "
            "to measure and no judge to leave out.",
        )
    ranked = [
        row
        for row in found.rows
        if row.panel_rank is not None and any(r is not None for r in row.rank_by_judge.values())
    ]
    if not found.rows:
        return JudgeSummary(
            method=method.key,
            panel=True,
            note=f"no model has {method.label} answers judged by a panel on this release yet.",
        )
    return JudgeSummary(
        method=method.key,
        panel=True,
        judges=found.judges,
        models=len(found.rows),
        alpha=found.alpha.alpha,
        alpha_ci=found.alpha.ci,
        alpha_n=found.alpha.n,
        flip_share=found.flips.any_flip if found.flips else None,
        flip_n=found.flips.n if found.flips else 0,
        ranked=len(ranked),
        rank_moves=sum(row.rank_moves for row in ranked),
        note=_why_missing(found.alpha.alpha, found.alpha.n, found.flips is None, method, ranked),
    )


def _why_missing(
    alpha: float | None, alpha_n: int, no_flips: bool, method: Method, ranked: list[ModelJudging]
) -> str:
    """As the judges page says it, shorter."""
    reasons = []
    if alpha is None:
        reasons.append(
            "no alpha: every readable vote is the same"
            if alpha_n
            else "no alpha: no answer has two readable votes"
        )
    if no_flips:
        reasons.append(
            f"no flip share: the panel decided no {method.label} answer "
            "(the judges' outputs are unreadable)"
        )
    if not ranked:
        reasons.append("no ranks: no model has both a panel verdict and a single judge's")
    return "; ".join(reasons)
