"""The backend contract: a batch of prompts in, one completion per prompt out, in order."""

from __future__ import annotations

from abc import ABC, abstractmethod


class LLMError(RuntimeError):
    """A backend could not answer (server error, bad response shape, missing model)."""


class LLMBackend(ABC):
    #: Short stable name of the implementation; part of every cache key.
    backend_id: str = ""

    def __init__(self, model: str) -> None:
        self.model = model

    @abstractmethod
    def generate(self, prompts: list[str], max_tokens: int, temperature: float) -> list[str]:
        """Return the completion text for each prompt (same length and order as `prompts`)."""
