"""A scripted backend for tests and demos: canned responses from a JSON file. NOT A MODEL.

It exists so the pipeline's parsing and counting paths can run end to end without a model;
a release built with it is labelled as such in its manifest (backend "scripted"). The file is

    {"rules": [{"match": "REGEX", "response": "TEMPLATE"}, ...], "default": "TEMPLATE"}

The first rule whose regex is found in the prompt (re.search, DOTALL) answers, its response
formatted with the match's named groups, so one rule can echo a piece of the prompt back.
A prompt no rule matches gets `default` (an error if there is none).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pipeline.llm.base import LLMBackend, LLMError


class ScriptedBackend(LLMBackend):
    backend_id = "scripted"

    def __init__(self, model: str = "", script: str | Path = "") -> None:
        if not script:
            raise ValueError("the scripted backend needs `script`, a JSON file of rules")
        path = Path(script)
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        # The script's name and a hash of its content go into the model name, hence into cache
        # keys: switching scripts or editing one never replays stale answers.
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        super().__init__(model or f"script:{path.name}:{digest}")
        self.rules = [
            (re.compile(rule["match"], re.DOTALL), str(rule["response"]))
            for rule in data.get("rules", [])
        ]
        self.default: str | None = data.get("default")

    def generate(self, prompts: list[str], max_tokens: int, temperature: float) -> list[str]:
        return [self._answer(prompt) for prompt in prompts]

    def _answer(self, prompt: str) -> str:
        for pattern, response in self.rules:
            match = pattern.search(prompt)
            if match:
                return response.format(
                    **{k: (v or "").strip() for k, v in match.groupdict().items()}
                )
        if self.default is None:
            raise LLMError(f"scripted backend: no rule matches prompt {prompt[:120]!r}")
        return self.default
