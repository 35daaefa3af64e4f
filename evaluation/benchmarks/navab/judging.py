"""What an AJ judge is given: a question, a free answer, and the two references in the position
the release's balancing gave them.

The judging step reads only these items, whatever wrote the answers: the evaluated model's
own generation stage, an API model's chat answers, or an answers file from an earlier run.
So a self-judged AJ and a reference-judged AJ of the same answers differ only in the judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evaluation.benchmarks.navab.balance import BalancedItem
from evaluation.providers.letters import parse_letter, strip_thinking


@dataclass(frozen=True)
class JudgeItem:
    uid: str
    nation: str
    mode: str
    #: "pos" (the statement S is reference A) or "neg" (the reverse statement is A)
    half: str
    question: str
    answer: str
    option_a: str
    option_b: str
    #: the index of the reference holding S (0: A, 1: B)
    gold: int


def free_answer(response: str) -> str:
    """The answer a judge sees in a generated response: a reasoning model's thinking removed
    (a block left open keeps only what came before it), and nothing for a response the
    provider withheld (the chat client's blocked marker), so that it counts as empty."""
    if parse_letter(response)[1] == "blocked":
        return ""
    answer, _ = strip_thinking(response)
    return answer


def judge_items(
    cells: Mapping[tuple[str, str], Sequence[BalancedItem]], answers: Mapping[str, str]
) -> dict[tuple[str, str], list[JudgeItem]]:
    """The items of `cells` that have an answer (uid -> answer), per (nation, mode), keeping
    the balanced positions; an item without an answer is left out, never judged blank."""
    return {
        key: [
            JudgeItem(
                uid=i.uid,
                nation=i.nation,
                mode=i.mode,
                half=i.half,
                question=i.question,
                answer=answers[i.uid],
                option_a=i.option_a,
                option_b=i.option_b,
                gold=i.gold,
            )
            for i in items
            if i.uid in answers
        ]
        for key, items in cells.items()
    }
