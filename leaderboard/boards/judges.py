"""Who judged a judged method's numbers: the site's reference judge as the jobs' cards record
it, and what a board says where none is configured."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

from django.conf import settings

from evaluation.benchmarks.contract import Method, Track
from evaluation.local_models import public_name
from leaderboard.evals.models import EvaluationJob


def judge_name(judge: dict[str, Any]) -> str:
    """name@revision, as a card's model entry holds it (a local judge by its folder's name, also
    on cards stored before they were published without server paths)."""
    name = public_name(str(judge.get("pretrained", "")))
    revision = judge.get("revision")
    return f"{name}@{revision}" if revision else name


def recorded_judges(job_ids: Collection[int], method: Method) -> list[str]:
    """Who judged a judged method's numbers, as the jobs' cards record it, most used first (a
    judge changed between runs shows as two): the site's reference judge, or each judge of a
    panel (DiverValue-Bench's PAA). Nobody, without a query, for a method nobody judges."""
    if not method.reference_judge and method.track != Track.JUDGED:
        return []
    jobs = EvaluationJob.objects.filter(pk__any=job_ids)
    if method.reference_judge:
        judges = [
            judge
            for judge in jobs.values_list("repro_card__reference_judge", flat=True)
            if isinstance(judge, dict)
        ]
    else:
        panels = jobs.values_list(f"repro_card__judge__{method.key}__judges", flat=True)
        judges = [
            {"pretrained": judge.get("model", ""), "revision": judge.get("revision")}
            for panel in panels
            if isinstance(panel, list)
            for judge in panel
            if isinstance(judge, dict)
        ]
    named = Counter(judge_name(judge) for judge in judges)
    return [name for name, _ in named.most_common()]


def configured_judge() -> str:
    """The site's reference judge as configured now ("" where none is)."""
    return public_name(str(settings.EVAL_REFERENCE_JUDGE))


def missing_judge_notice(method: Method) -> str:
    """Why a reference-judged method has no new numbers ("" where it runs)."""
    if not method.reference_judge or configured_judge():
        return ""
    return (
        f"No reference judge is configured on this site (EVAL_REFERENCE_JUDGE is unset), so "
        f"{method.label} is not run; models evaluated earlier keep the numbers shown."
    )
