"""Reading an answer letter from generated text, for multiple choice asked as a question.

Self-contained (standard library only): the lm-eval export copies this file as its tasks'
`utils.py`, so a stock `lm_eval` run parses exactly as the site does.

1. Thinking is removed first: `<think>...</think>`, `<thinking>...</thinking>`,
   `<reasoning>...</reasoning>` (any case); where only a closing tag is present (templates
   that open the block in the prompt), only what follows the last one is the answer; a block
   left open means the answer was cut off while thinking (`unparsable`).
2. Strict: the whole answer is one letter, optionally bracketed, bold or followed by "." or
   ")" — "A", "(B)", "**A**", "B.", "b".
3. Fallback: the answer states a letter explicitly — it starts with one followed by ":", ".",
   ")" or "-" ("A: yes", "b. Because ..."), or names one after "answer", "choice" or
   "option" ("The answer is B", "Option (A)", "Answer: b"). A lower-case "a" counts there
   only where it cannot be the article: bracketed, bold, or ending the clause ("answer: a.",
   "option (a)"; never "Neither option is a good fit"). Used only when every such statement
   names the same letter.
4. Otherwise the response is `empty` (nothing but whitespace), `blocked` (the provider
   withheld it: the client's BLOCKED marker), `refused` (an apology or refusal without a
   letter), `ambiguous` (both letters given as the answer: "A or B, hard to say", "Answer: A,
   or maybe option B"), `truncated` (cut off by the token limit — the client's TRUNCATED
   marker, from `finish_reason: "length"` — before a letter could be read, thinking
   included) or `unparsable`. None of these is ever replaced by a guess: they score 0 and are
   counted per cell.

Letters are returned upper-case, as the gold letters are.

`process_judged` is the metric of the reference-judged AJ tasks, exported beside: an empty
free answer is no answer, scored 0 as an unanswered letter is, whichever reference the judge
leans to.
"""

from __future__ import annotations

import re
from typing import Any

LETTERS = ("A", "B")
PARSED = ("strict", "fallback")
UNANSWERED = ("empty", "blocked", "refused", "ambiguous", "truncated", "unparsable")
#: what the chat client returns for a response the provider withheld (content filter, no
#: message); lm-eval's own client turns these into "" silently
BLOCKED = "[[blocked by the provider: {reason}]]"
#: what the chat client appends to an answer the provider cut off at the token limit
#: (`finish_reason: "length"`); lm-eval's own client drops that reason
TRUNCATED = "[[cut off at the token limit]]"

_BLOCKS = ("think", "thinking", "reasoning")
_NAMES = "|".join(_BLOCKS)
_CLOSED = re.compile(rf"<({_NAMES})>.*?</\1>", re.IGNORECASE | re.DOTALL)
_OPEN = re.compile(rf"<({_NAMES})>", re.IGNORECASE)
_CLOSE = re.compile(rf"</({_NAMES})>", re.IGNORECASE)
_STRICT = re.compile(r"^\**\(?([AB])\)?\**[.)]?$", re.IGNORECASE)
_LEADING = re.compile(r"^\**\(?([AB])\)?\**\s*[:.)\-]", re.IGNORECASE)
# A letter after "answer", "choice" or "option", as a word of its own; a lower-case "a" only
# where it cannot be the article (bracketed, bold, or ending the clause). A letter followed
# by "or"/"/" and the other letter is no answer ("the answer is A or B").
_LETTER = (
    r"(?:\*\*([AaBb])\*\*|\(([AaBb])\)|([ABb])(?![A-Za-z])|(a)(?=\s*(?:$|[.,;!?)\n])))"
    r"(?!\s*(?:or|/)\s*\(?[AaBb]\b)"
)
_NAMED = re.compile(
    r"\b(?i:answer|choice|option)\b[^A-Za-z\n]{0,6}(?:(?i:is)\s*)?[:\-]?\s*" + _LETTER
)
# Both letters offered together as the answer: "A or B", "(a)/(b)", "B or A".
_BOTH = re.compile(
    r"(?<![A-Za-z])\(?(?:A\)?\s*(?:or|/)\s*\(?B|B\)?\s*(?:or|/)\s*\(?A)\)?(?![A-Za-z])",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"\b(?:I\s*(?:'m| am)\s*(?:sorry|unable|not able)|I\s*(?:can(?:no|')t|won't|will not|"
    r"must decline|do not feel comfortable)|as an AI\b|I\s*(?:prefer|would rather) not)",
    re.IGNORECASE,
)
_BLOCKED = re.compile(r"^\[\[blocked by the provider: .*\]\]$", re.DOTALL)


def strip_thinking(text: str) -> tuple[str, bool]:
    """The answer without its thinking (nor the TRUNCATED marker), and whether it was cut
    off inside a thinking block."""
    text = _CLOSED.sub("", text.rstrip().removesuffix(TRUNCATED))
    closes = list(_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    opened = _OPEN.search(text)
    if opened:
        return text[: opened.start()].strip(), True
    return text.strip(), False


def parse_letter(text: str | None) -> tuple[str | None, str]:
    """(letter or None, status): status is one of PARSED or UNANSWERED."""
    if text is None or not text.strip():
        return None, "empty"
    if _BLOCKED.match(text.strip()):
        return None, "blocked"
    letter, status = _read(text)
    # An answer the token limit cut off was never finished: not the model's unreadable one.
    cut = text.rstrip().endswith(TRUNCATED)
    if cut and letter is None and status in ("empty", "ambiguous", "unparsable"):
        return None, "truncated"
    return letter, status


def _read(text: str) -> tuple[str | None, str]:
    answer, cut_off = strip_thinking(text)
    if not answer:
        return None, "unparsable" if cut_off else "empty"
    strict = _STRICT.match(answer)
    if strict:
        return strict.group(1).upper(), "strict"
    named = {next(g for g in m.groups() if g).upper() for m in _NAMED.finditer(answer)}
    leading = _LEADING.match(answer)
    if leading:
        named.add(leading.group(1).upper())
    if len(named) == 1:
        return named.pop(), "fallback"
    if named:
        return None, "ambiguous"
    if _REFUSAL.search(answer):
        return None, "refused"
    if _BOTH.search(answer):
        return None, "ambiguous"
    return None, "unparsable"


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """lm-eval's per-document metric: 1 for the gold letter, 0 otherwise (never a guess)."""
    letter, _ = parse_letter(results[0] if results else None)
    return {"acc": float(letter is not None and letter == LETTERS[int(doc["gold"])])}


def process_judged(doc: dict[str, Any], results: list[tuple[float, bool]]) -> dict[str, float]:
    """lm-eval's per-document metric of a judged free answer: 1 where the judge's likelier
    reference (the first on a tie, as lm-eval's argmax) is the gold one; 0 for an empty
    answer, which states nothing to judge."""
    if not str(doc.get("answer") or "").strip():
        return {"acc": 0.0}
    lls = [float(ll) for ll, _ in results]
    return {"acc": float(lls.index(max(lls)) == int(doc["gold"]))}
