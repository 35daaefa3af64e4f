"""Named backends as "module:Class" strings, imported only when asked for."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pipeline.llm.base import LLMBackend

if TYPE_CHECKING:
    from pipeline.config import LLMSpec

BACKENDS: dict[str, str] = {
    "openai": "pipeline.llm.openai_http:OpenAIBackend",
    "transformers": "pipeline.llm.local:TransformersBackend",
    # Canned responses from a JSON file, for tests and demos only; never for a real release.
    "scripted": "pipeline.llm.scripted:ScriptedBackend",
}


def make_backend(spec: LLMSpec) -> LLMBackend:
    try:
        target = BACKENDS[spec.backend]
    except KeyError:
        raise ValueError(
            f"unknown LLM backend {spec.backend!r}; choose one of {', '.join(sorted(BACKENDS))}"
        ) from None
    module_name, class_name = target.split(":")
    backend_cls = getattr(importlib.import_module(module_name), class_name)
    backend: LLMBackend = backend_cls(model=spec.model, **spec.options)
    return backend
