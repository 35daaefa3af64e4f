"""Scripted PAA judges behind a real OpenAI-compatible chat endpoint, for tests.

`/v1/chat/completions` on `tests.openai_server.OpenAIServer` answers a judge prompt with
scores chosen from the question it quotes (`case_of`), so a test knows each judge's verdict
on each item without reading the code under test:

- case W: model 85, answer_w 80, answer_l 20; case L: 50 / 90 / 10; case TIE: 78 / 80 / 70.
- `strict-judge` replies with the bare JSON object in every case;
- `chatty-judge` wraps it in a thinking block and a code fence (the documented fallback), and
  in case TIE replies with a score of 150 (unparsable: it abstains).
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Final

CASES: Final = ("W", "L", "TIE")
SCORES: Final = {
    "W": {"score_model": 85, "score_w": 80, "score_l": 20},
    "L": {"score_model": 50, "score_w": 90, "score_l": 10},
    "TIE": {"score_model": 78, "score_w": 80, "score_l": 70},
}
REASON: Final = "Scripted reason: fits the stated preferences."


def case_of(question: str) -> str:
    return CASES[zlib.crc32(question.encode()) % len(CASES)]


def _question(prompt: str) -> str:
    start = prompt.index("\nQuestion:\n") + len("\nQuestion:\n")
    return prompt[start : prompt.index("\n\nanswer_w (", start)]


def reply(model: str, prompt: str) -> str:
    case = case_of(_question(prompt))
    verdict = {**SCORES[case], "hard_violations_model": [], "reason": REASON}
    if model == "strict-judge":
        return json.dumps(verdict)
    if case == "TIE":
        verdict["score_model"] = 150
    return f"<think>Weighing the user's values.</think>\n```json\n{json.dumps(verdict)}\n```"


def chat_completions(body: dict[str, Any]) -> dict[str, Any]:
    prompt = str(body["messages"][-1]["content"])
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply(str(body["model"]), prompt)},
                "finish_reason": "stop",
            }
        ],
    }
