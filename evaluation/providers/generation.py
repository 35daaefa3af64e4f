"""A chat model's generation settings, chosen at submission: how long it may answer, how it
samples, what it is told first, and whether it is a reasoning model.

Plain Python (standard library only), validated where they are built, so that a form, the
API and a worker read the same rules:

- `max_tokens`: the most output tokens per answer (None: the benchmark's own default);
- `temperature`: 0 to 2 (None: greedy, 0, as every chat model is asked by default);
- `system_prompt`: a system turn sent before the task's own turns ("" for none);
- `reasoning`: a reasoning model (o-series, DeepSeek-R1 style): it is sent no `stop` and no
  `temperature` (such APIs refuse them), `max_completion_tokens` instead of `max_tokens`
  (which counts its hidden thinking too, so allow for it), and `reasoning_effort` where one
  is chosen. Its thinking, whether returned inside the answer (`<think>...</think>`) or
  beside it (`reasoning_content`), is kept in the raw record and stripped before parsing
  (`evaluation.providers.letters`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

REASONING_EFFORTS = ("minimal", "low", "medium", "high")
#: bounds a submission is checked against (no provider answers more than this per request)
MAX_OUTPUT_TOKENS = 65536
MAX_TEMPERATURE = 2.0
MAX_SYSTEM_PROMPT_CHARS = 4000


@dataclass(frozen=True)
class Generation:
    max_tokens: int | None = None
    temperature: float | None = None
    system_prompt: str = ""
    reasoning: bool = False
    reasoning_effort: str | None = None

    def __post_init__(self) -> None:
        # Types are checked too: these come from JSON a user sent ("128", true, 1e9).
        if self.max_tokens is not None:
            if type(self.max_tokens) is not int:
                raise ValueError("max output tokens must be a whole number")
            if not 1 <= self.max_tokens <= MAX_OUTPUT_TOKENS:
                raise ValueError(f"max output tokens must be between 1 and {MAX_OUTPUT_TOKENS}")
        if self.temperature is not None:
            if type(self.temperature) not in (int, float):
                raise ValueError("temperature must be a number")
            if not 0.0 <= self.temperature <= MAX_TEMPERATURE:  # NaN fails this too
                raise ValueError(f"temperature must be between 0 and {MAX_TEMPERATURE:g}")
            if self.reasoning:
                raise ValueError(
                    "a reasoning model is sent no temperature (such APIs refuse it): leave "
                    "temperature empty or turn reasoning mode off"
                )
        if not isinstance(self.system_prompt, str):
            raise ValueError("the system prompt must be text")
        if len(self.system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
            raise ValueError(
                f"the system prompt is at most {MAX_SYSTEM_PROMPT_CHARS} characters "
                f"(this one has {len(self.system_prompt)})"
            )
        if "\x00" in self.system_prompt:
            raise ValueError("the system prompt cannot hold NUL characters")
        if type(self.reasoning) is not bool:
            raise ValueError("reasoning mode is true or false")
        if self.reasoning_effort is not None:
            if self.reasoning_effort not in REASONING_EFFORTS:
                raise ValueError(
                    f"reasoning effort must be one of {', '.join(REASONING_EFFORTS)}, "
                    f"not {self.reasoning_effort!r}"
                )
            if not self.reasoning:
                raise ValueError("a reasoning effort needs reasoning mode")

    @classmethod
    def from_dict(cls, data: Any) -> Generation:
        """Settings as stored or sent ({} or None: the defaults); unknown keys are refused,
        so a misspelt setting is never silently ignored."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValueError("generation settings must be an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ValueError(f"unknown generation settings: {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults (a model with none stores {})."""
        default = Generation()
        return {k: v for k, v in asdict(self).items() if v != getattr(default, k)}

    def apply(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A chat-completions payload (lm-eval's) as these settings send it."""
        if self.max_tokens is not None:
            payload["max_tokens"] = self.max_tokens
        if self.system_prompt:
            messages = list(payload.get("messages") or [])
            if messages and messages[0].get("role") == "system":
                own = f"{self.system_prompt}\n\n{messages[0].get('content') or ''}"
                messages[0] = {**messages[0], "content": own.rstrip()}
            else:
                messages.insert(0, {"role": "system", "content": self.system_prompt})
            payload["messages"] = messages
        if self.reasoning:
            payload.pop("stop", None)
            payload.pop("temperature", None)
            payload["max_completion_tokens"] = payload.pop("max_tokens", None)
            if payload["max_completion_tokens"] is None:
                del payload["max_completion_tokens"]
            if self.reasoning_effort:
                payload["reasoning_effort"] = self.reasoning_effort
        elif self.temperature is not None:
            payload["temperature"] = self.temperature
        return payload
