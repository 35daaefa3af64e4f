"""A disk cache in front of any backend, so an interrupted run resumes without repeating calls.

Responses are keyed by sha256 of (backend id, model, prompt, max_tokens, temperature) and stored
in SQLite, committed after every batch: a crash loses at most the batch in flight. Sampling
with temperature > 0 is cached too, on purpose: a resumed run must see the answers the first
attempt saw, or its counts would not add up.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from pipeline.llm.base import LLMBackend, LLMError

BatchProgress = Callable[[int, int], None]


def cache_key(backend: LLMBackend, prompt: str, max_tokens: int, temperature: float) -> str:
    payload = json.dumps(
        [backend.backend_id, backend.model, prompt, max_tokens, temperature], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class CachedLLM:
    def __init__(self, backend: LLMBackend, path: Path, batch_size: int = 16) -> None:
        self.backend = backend
        self.batch_size = max(1, batch_size)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)"
        )
        self._db.commit()
        #: Prompts sent to the backend / answered from disk by this object.
        self.calls = 0
        self.hits = 0

    def close(self) -> None:
        self._db.close()

    def _lookup(self, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, response FROM responses WHERE key IN ({marks})", chunk
            )
            found.update(rows.fetchall())
        return found

    def generate(
        self,
        prompts: list[str],
        max_tokens: int,
        temperature: float,
        progress: BatchProgress | None = None,
    ) -> list[str]:
        keys = [cache_key(self.backend, p, max_tokens, temperature) for p in prompts]
        answers = self._lookup(keys)
        self.hits += sum(1 for k in keys if k in answers)
        # Identical prompts within one call are sent once; progress counts distinct prompts.
        first_index: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in answers:
                first_index.setdefault(key, i)
        missing = list(first_index.values())
        total = len(set(keys))
        done = total - len(missing)
        if progress:
            progress(done, total)
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            outputs = self.backend.generate([prompts[i] for i in batch], max_tokens, temperature)
            if len(outputs) != len(batch):
                raise LLMError(
                    f"{self.backend.backend_id} returned {len(outputs)} answers "
                    f"for {len(batch)} prompts"
                )
            self.calls += len(batch)
            rows = [(keys[i], text) for i, text in zip(batch, outputs, strict=True)]
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?)", rows)
            self._db.commit()
            answers.update(rows)
            done += len(batch)
            if progress:
                progress(done, total)
        return [answers[k] for k in keys]
