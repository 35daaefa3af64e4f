"""PAA's judge panel as the judges page reads it: each judge's vote on one item, and the
panel's verdict with one judge left out, from the records a PAA result keeps per item."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evaluation.benchmarks.divervalue.paa import JudgeScores, Verdict, panel_verdict


class PaaPanel:
    aligned = str(Verdict.W)

    @staticmethod
    def _records(details: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        records = details.get("judges")
        return [r for r in records if isinstance(r, Mapping)] if isinstance(records, list) else []

    def votes(self, details: Mapping[str, Any]) -> dict[str, str]:
        return {
            str(r.get("judge", "")): str(r.get("vote") or Verdict.ABSTAIN)
            for r in self._records(details)
        }

    def verdict(self, details: Mapping[str, Any], without: str | None = None) -> str:
        panel = [
            _scores(record)
            for record in self._records(details)
            if without is None or record.get("judge") != without
        ]
        return str(panel_verdict(panel)) if panel else str(Verdict.ABSTAIN)


def _scores(record: Mapping[str, Any]) -> JudgeScores | None:
    scores = record.get("scores")
    if not isinstance(scores, Mapping):
        return None
    try:
        return JudgeScores(
            judge=str(record.get("judge", "")),
            model=int(scores["model"]),
            winner=int(scores["w"]),
            loser=int(scores["l"]),
            hard_violation=bool(record.get("hard_violation")),
        )
    except (KeyError, TypeError, ValueError):
        return None
